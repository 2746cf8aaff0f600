// Node entry point: the same API, with init() reading the .wasm from disk by default
// (Node's fetch cannot read file: URLs), and fsGenome for a reference FASTA on disk.
import { readFile } from 'node:fs/promises';
import { openSync, readSync, fstatSync, readFileSync, closeSync, existsSync } from 'node:fs';
import { _setDefaultWasmSource } from './index.js';

_setDefaultWasmSource(() => readFile(new URL('./seqlens_core_bg.wasm', import.meta.url)));

/**
 * A reference genome on disk, read by slices (for Model.scoreVariants and scoreSplice):
 * `path` and its `path.fai` index, and for a bgzf FASTA its `path.gzi` (read when present).
 */
export function fsGenome(path, faiPath = `${path}.fai`, gziPath = `${path}.gzi`) {
  const fd = openSync(path, 'r');
  return {
    name: path,
    size: fstatSync(fd).size,
    fai: readFileSync(faiPath, 'utf8'),
    gzi: existsSync(gziPath) ? readFileSync(gziPath) : undefined,
    read(offset, length) {
      const buf = new Uint8Array(length);
      const n = readSync(fd, buf, 0, length, offset);
      return buf.subarray(0, n);
    },
    close: () => closeSync(fd),
  };
}

export {
  init, threading, Model, Genes, spliceFigureSvg, oneHot, reverseComplement, parseFasta, parseVcf, formatPredictions, logoSvg, logoRange, callSeqlets, annotateSeqlets, discoverMotifs, patternSvg, heatmapSvg, fileGenome,
  SeqlensWorker,
} from './index.js';
