// seqlens: the public JS API. A thin layer over the wasm-bindgen module (seqlens_core.js):
// it loads the .wasm, normalises inputs, and makes sure every failure is a thrown Error with a
// readable message, never a bare WebAssembly trap.
import * as plain from './seqlens_core.js';

// The wasm-bindgen module in use: the plain build until init() picks the threaded one.
let core = plain;
let ready = null;
let poisoned = null;
let defaultSource = () => undefined;
// Which build init() loaded and why: {build, reason}; null until it has.
let build = null;

/** @internal Lets node.js supply the .wasm bytes from disk when init() gets no argument. */
export function _setDefaultWasmSource(fn) {
  defaultSource = fn;
}

// Why the threaded build cannot run here, or null when it can: its pool's Web Workers share
// the module's memory (a SharedArrayBuffer, only in a cross-origin isolated context), and the
// thread that calls into it waits on them (Atomics.wait), which a page's main thread may not.
function threadsBlocker() {
  if (typeof WorkerGlobalScope === 'undefined' || !(self instanceof WorkerGlobalScope)) {
    return 'threads run only inside a Web Worker (use SeqlensWorker)';
  }
  if (!globalThis.crossOriginIsolated) {
    return 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)';
  }
  return null;
}

/**
 * The threaded build's module, or why it did not load. It is imported by an address that
 * bundlers do not follow: its thread pool's workers import the module again by its own URL,
 * which no bundler keeps, so a bundled app runs the plain build (threading() says why) instead
 * of hanging in a pool that never starts. Unbundled, the files are beside this one.
 */
async function importThreaded() {
  // Not `new URL('…', import.meta.url)`: bundlers would copy that file alone, as an asset.
  const here = import.meta.url;
  const url = new URL('threads/seqlens_core.js', here).href;
  try {
    return await import(/* @vite-ignore */ /* webpackIgnore: true */ url);
  } catch (e) {
    return `the threaded build did not load from ${url} (${e.message}); bundlers do not copy it`;
  }
}

/**
 * Loads the WebAssembly module. `source` may be a URL (string or URL), a Response, bytes
 * (ArrayBuffer / Uint8Array) or a WebAssembly.Module; by default the .wasm beside this file.
 * `threads`: how many Web Workers run the CPU engine's kernels. By default, inside a
 * cross-origin isolated Worker, the threaded build (threads/ beside this file) runs on
 * navigator.hardwareConcurrency workers; elsewhere the plain build runs on the calling
 * thread. A number above 1 where threads cannot run is refused, naming why; 1 picks the plain
 * build. A `source` of your own is the plain build's .wasm. Safe to call more than once; the
 * first call decides.
 */
export async function init(source, { threads } = {}) {
  if (!ready) {
    ready = (async () => {
      if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
        throw new Error(`threads must be a whole number of at least 1, got ${threads}`);
      }
      const blocker = source !== undefined ? 'a .wasm source was given (the plain build)' : threadsBlocker();
      if (threads > 1 && blocker) throw new Error(`cannot run on ${threads} threads: ${blocker}`);
      let reason = threads === 1 ? 'one thread was asked for' : blocker;
      if (!reason) {
        const threaded = await importThreaded();
        if (typeof threaded !== 'string') {
          await threaded.default();
          await threaded.initThreadPool(threads ?? (navigator.hardwareConcurrency || 1));
          core = threaded;
          build = { build: 'threads', reason: null };
          return;
        }
        if (threads > 1) throw new Error(`cannot run on ${threads} threads: ${threaded}`);
        reason = threaded;
      }
      const src = source ?? (await defaultSource());
      await plain.default(src === undefined ? undefined : { module_or_path: src });
      build = { build: 'plain', reason };
    })();
    ready.catch(() => {
      ready = null;
    });
  }
  return ready;
}

/**
 * Which build runs the CPU engine and on how many threads: {build: 'threads' | 'plain',
 * threads, reason (why the plain build, or null)}.
 */
export function threading() {
  if (!build) return { build: 'plain', threads: 1, reason: 'init() has not run' };
  // The count comes from rayon's pool inside the module itself.
  return { build: build.build, threads: call(() => core.threadCount()), reason: build.reason };
}

function internalError(e) {
  let msg = e && e.message;
  try {
    msg = core.lastPanic() ?? msg;
  } catch {
    // the instance may be unusable after a trap; keep the trap's own message
  }
  poisoned = msg;
  return new Error(`seqlens internal error: ${msg}. Please report it; reload the module to continue.`);
}

function checkPoisoned() {
  if (poisoned) {
    throw new Error(`seqlens stopped after an internal error (${poisoned}); reload the module`);
  }
}

function rethrow(e) {
  if (e instanceof WebAssembly.RuntimeError) throw internalError(e);
  if (e instanceof Error) throw e;
  throw new Error(String(e));
}

function call(fn) {
  checkPoisoned();
  try {
    return fn();
  } catch (e) {
    rethrow(e);
  }
}

/** As call(), for exports that return a Promise (GPU work is asynchronous). */
async function callAsync(fn) {
  checkPoisoned();
  try {
    return await fn();
  } catch (e) {
    rethrow(e);
  }
}

async function ensureInit() {
  if (!ready) await init();
  else await ready;
}

function toBytes(data, what) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} must be an ArrayBuffer or Uint8Array, got ${data === null ? 'null' : typeof data}`);
}

/** An ONNX sequence model. */
export class Model {
  #inner;

  constructor(inner) {
    this.#inner = inner;
  }

  /**
   * Loads an ONNX model from its bytes; `overrides` replaces seqlens metadata values.
   * `backend`: 'auto' (default: WebGPU on a hardware adapter when the model's graph runs
   * there, else the CPU), 'webgpu' (rejects with the reason if it cannot), 'cpu' or 'tract'.
   * `externalData`: for a model saved with ONNX external data (torch.onnx.export's default
   * writes `model.onnx.data` beside `model.onnx`), its files by name, e.g.
   * `{ 'model.onnx.data': bytes }`.
   */
  static async load(bytes, overrides, { backend = 'auto', externalData } = {}) {
    await ensureInit();
    const data = toBytes(bytes, 'model bytes');
    const external = externalData
      ? Object.fromEntries(Object.entries(externalData).map(([k, v]) => [k, toBytes(v, `externalData['${k}']`)]))
      : null;
    const inner = call(() => core.Model.load(data, overrides, external));
    try {
      await callAsync(() => inner.selectBackend(backend));
    } catch (e) {
      inner.free();
      throw e;
    }
    return new Model(inner);
  }

  /** Inputs, outputs, metadata, operators and parameter count, and the backend in use. */
  info() {
    const info = call(() => this.#inner.info());
    info.backend = this.backend;
    info.gradientBackend = this.gradientBackend;
    info.threading = threading();
    return info;
  }

  /** Where predictions run: {backend: 'cpu' | 'webgpu', adapter, reason (why the CPU)}. */
  get backend() {
    return call(() => this.#inner.backend());
  }

  /** Where the gradient methods (grad, ixg, ig) and DeepLIFT/SHAP run: 'gpu', or 'cpu (why)'. */
  get gradientBackend() {
    return call(() => this.#inner.gradientBackend());
  }

  /**
   * Predicts FASTA/FASTQ text or bytes, or an array of sequences (strings or {id, seq}).
   * Resolves to {ids, labels, values: Float32Array (row-major [n, labels]), shape, windows}.
   * `onProgress(done, total)` is called after each batch; returning false cancels.
   */
  async predict(input, options, { onProgress } = {}) {
    return callAsync(() => this.#inner.predict(input, options, onProgress));
  }

  /**
   * Attribution maps for each sequence: options {method: 'grad'|'ixg'|'ig'|'ism'|'fast-ism',
   * target: label names (summed), steps, baseline: 'zeros'|'uniform'|'shuffle', shuffles,
   * seed}. Resolves to [{id, chrom, start, sequence, channels, length, map: Float32Array
   * [channels, length], perBase: Float32Array, targetValue}].
   */
  async attribute(input, options, { onProgress } = {}) {
    return callAsync(() => this.#inner.attribute(input, options, onProgress));
  }

  /**
   * Substitutes motifs into backgrounds and predicts before and after (tangermeme's
   * marginalize; with two or more motifs and `spacings`, its space): options {motifs,
   * spacings, start, shuffles, seed}. Resolves to {ids, labels, before, spacings, after,
   * meanEffect}.
   */
  async marginalize(input, options) {
    return callAsync(() => this.#inner.marginalize(input, options));
  }

  /**
   * Shuffles a region of each sequence and predicts before and after (tangermeme's ablate):
   * options {region: [from, to], shuffles, dinucleotide, seed}. Resolves to {ids, labels,
   * before, shuffles, after, meanEffect}.
   */
  async ablate(input, options) {
    return callAsync(() => this.#inner.ablate(input, options));
  }

  /**
   * Designs each sequence by single-base substitutions toward a goal, greedily or with a
   * beam (tangermeme's greedy_substitution and beam_substitution): options {labels, goal:
   * 'max'|'min'|number[], edits, beam, keep, tol, region: [from, to], scoring:
   * 'auto'|'fast'|'ism'}. Resolves to [{id, sequence, labels, original, originalLoss, rounds,
   * scoring, designs: [{sequence, edits: [{position, from, to}], prediction, loss}]}].
   */
  async design(input, options, { onProgress } = {}) {
    return callAsync(() => this.#inner.design(input, options, onProgress));
  }

  /**
   * Scores each ALT allele of a VCF (text or bytes) against a reference genome read by
   * slices: `genome` is {fai, size, read(offset, length) -> Uint8Array} (see fileGenome).
   * Resolves to {labels, scores, variants: [...]}, one entry per allele with its status.
   */
  async scoreVariants(vcf, genome, options, { onProgress } = {}) {
    return callAsync(() => this.#inner.scoreVariants(vcf, genome, options, onProgress));
  }

  /**
   * CI-SpliceAI delta scores (with a splice model such as the bundled CI-SpliceAI) for each
   * ALT allele of `variants` (a VCF as text or bytes, or variants typed one per line as
   * `chr1:12345 A>G`), against `genome` (as for scoreVariants; bgzf with `gzi`) and `genes`
   * (a Genes table). Options {distance, mask, outside, all, includeTracks, batchSize}.
   * Resolves to {options, alleles, vcf, tsv}; see the README.
   */
  async scoreSplice(variants, genome, genes, options, { onProgress } = {}) {
    if (!(genes instanceof Genes)) throw new TypeError('genes must be a Genes table (Genes.load)');
    return callAsync(() => this.#inner.scoreSplice(variants, genome, genes._inner, options, onProgress));
  }

  /** Releases the model's WebAssembly memory. */
  free() {
    this.#inner.free();
  }
}

/**
 * A gene annotation for splice scoring: the bundled GRCh37/GRCh38 tables
 * (genes_grch38.tsv.gz), cispliceai's CSV or a GTF, plain or gzip.
 */
export class Genes {
  /** @internal */
  _inner;

  constructor(inner) {
    this._inner = inner;
  }

  /** Reads a gene table from its bytes; `name` names it in error messages. */
  static async load(bytes, name) {
    await ensureInit();
    const data = toBytes(bytes, 'gene table bytes');
    return new Genes(call(() => core.Genes.load(data, name)));
  }

  /** How many genes the table holds. */
  get length() {
    return call(() => this._inner.length);
  }

  /** Releases the table's WebAssembly memory. */
  free() {
    this._inner.free();
  }
}

/** One-hot encodes a sequence: Float32Array [channels, length] (NCL) or [length, channels]. */
export function oneHot(sequence, options) {
  return call(() => core.oneHot(sequence, options));
}

/** IUPAC-aware reverse complement; alphabet "dna" (default) or "rna". */
export function reverseComplement(sequence, alphabet) {
  return call(() => core.reverseComplement(sequence, alphabet));
}

/** Parses FASTA or FASTQ (string or bytes, gzip allowed) into [{id, description, seq}]. */
export function parseFasta(data, name) {
  return call(() => core.parseFasta(data, name));
}

/** Parses a VCF (string or bytes, gzip allowed) into [{chrom, pos, id, ref, alts, line}]. */
export function parseVcf(data, name) {
  return call(() => core.parseVcf(data, name));
}

/**
 * A reference genome backed by a browser File or Blob, read by slices: only the bytes a window
 * needs are read, so a multi-GB FASTA is never loaded whole. Synchronous reads need a worker
 * (FileReaderSync); the worker helper uses this. `fai` is the text of the .fai index, and
 * `gzi` the bytes of the .gzi index of a bgzf-compressed FASTA.
 */
export function fileGenome(file, fai, gzi) {
  if (typeof FileReaderSync === 'undefined') {
    throw new Error('fileGenome reads by slices with FileReaderSync, which exists only in Web Workers; use SeqlensWorker');
  }
  const reader = new FileReaderSync();
  return {
    name: file.name ?? 'reference',
    size: file.size,
    fai,
    gzi,
    read: (offset, length) => new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length))),
  };
}

/** An SVG sequence logo of a [channels, length] map; `symbols` names the channels ("ACGT"). */
export function logoSvg(map, symbols, options) {
  return call(() => core.logoSvg(map, symbols, options));
}

/**
 * The table `seqlens predict --out` writes for `predictions` (as predict() resolves them),
 * byte for byte: `format` 'tsv' (default) or 'json'.
 */
export function formatPredictions(predictions, format) {
  const { ids, labels, shape, windows, values } = predictions;
  return call(() => core.formatPredictions({ ids, labels, shape, windows }, values, format));
}

/** The y range [lowest, highest] a logo of `map` needs over options' start..end: pass the
 * union of two logos' ranges to both as `yRange` to compare them by height. */
export function logoRange(map, symbols, options) {
  return call(() => Array.from(core.logoRange(map, symbols, options)));
}

/** Seqlets in attributions (as attribute() resolves them) with tangermeme's recursive
 * seqlet caller, one null pooled over all of them; by p-value. */
export function callSeqlets(attributions, options) {
  return call(() => core.callSeqlets(attributions, options ?? {}));
}

/**
 * Seqlets (as callSeqlets returns them) with their best database motifs by TOMTOM
 * (memelite's numbers, as tangermeme's annotate_seqlets): each seqlet comes back with
 * `motifs`, best first. `options.motifs`: a MEME file's text (default: the bundled JASPAR
 * 2024 CORE vertebrates); `options.top`: how many per seqlet (1).
 */
export function annotateSeqlets(seqlets, options) {
  return call(() => {
    const found = core.annotateSeqlets(seqlets, options ?? {});
    return seqlets.map((s, i) => ({ ...s, motifs: found[i] }));
  });
}

/**
 * Motif discovery (TF-MoDISco-lite, modisco-lite 3.0's defaults) in DeepLIFT/SHAP
 * attributions (attribute() with method 'deeplift-shap': each one's sequence, perBase and
 * map of hypothetical contributions), each pattern named by its best database motifs.
 * `options`: `top` (3) and `motifs` (a MEME file's text; default the bundled JASPAR 2024
 * CORE vertebrates) for the report; `seqlets`, `metaclusters`, `affinity`, `patterns` and
 * `collapse` for the pipeline (objects of settings). `onProgress(done, total, stage)` is told
 * each stage; returning false cancels.
 */
export function discoverMotifs(attributions, options, { onProgress } = {}) {
  const { top, motifs, ...discovery } = options ?? {};
  return call(() => core.discoverMotifs(attributions, discovery, { top, motifs }, onProgress));
}

/**
 * The SVG figure of a pattern from discoverMotifs: its contributions' logo above its best
 * match's information-content logo, aligned as TOMTOM aligned them. `options`: `baseWidth`,
 * `height`, `palette`, and `motifs` (the MEME text given to discoverMotifs, if any).
 */
export function patternSvg(pattern, options) {
  const { motifs, ...plot } = options ?? {};
  return call(() => core.patternSvg(pattern, plot, motifs));
}

/**
 * The SVG figure of a splice allele's effect in one gene (`allele` and `annotation` from
 * scoreSplice with includeTracks): reference and alternate acceptor and donor probabilities
 * around the variant, with the delta scores' positions marked.
 */
export function spliceFigureSvg(allele, annotation) {
  return call(() => core.spliceFigureSvg(allele, annotation));
}

/** An SVG ISM heatmap of substitution effects [channels, length] over `sequence`. */
export function heatmapSvg(effects, sequence, symbols, options) {
  return call(() => core.heatmapSvg(effects, sequence, symbols, options));
}

export { SeqlensWorker } from './client.js';
