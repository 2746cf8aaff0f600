// Node entry point: the same API, with init() reading the .wasm from disk by default
// (Node's fetch cannot read file: URLs).
import { readFile } from 'node:fs/promises';
import { _setDefaultWasmSource } from './index.js';

_setDefaultWasmSource(() => readFile(new URL('./seqlens_core_bg.wasm', import.meta.url)));

export { init, Model, oneHot, reverseComplement, parseFasta, parseVcf } from './index.js';
