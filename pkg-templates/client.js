// SeqlensWorker: the seqlens API run in a Web Worker, so the page stays responsive. Every
// call resolves with the same values as the in-thread Model; long calls report progress and
// can be cancelled with an AbortSignal (the worker is stopped at once and restarted, with the
// model reloaded, on the next call).

export class SeqlensWorker {
  #worker = null;
  #next = 1;
  #pending = new Map();
  #load = null;
  #genes = null;
  #workerUrl;
  #viaBlob;
  #wasm;
  #threads;

  /**
   * `wasm` and `threads`: as init()'s, in the worker (the threaded build runs there when the
   * page is cross-origin isolated). `workerUrl`: where worker.js is served, for an app that
   * copies the package's files itself; by default it is the worker.js beside this file, which
   * bundlers find and bundle. `viaBlob`: start the worker through a one-line blob: module that
   * imports worker.js, for unbundled pages whose service worker must serve it offline.
   */
  constructor({ workerUrl, viaBlob = false, wasm, threads } = {}) {
    this.#workerUrl = workerUrl;
    this.#viaBlob = viaBlob;
    this.#wasm = wasm;
    this.#threads = threads;
  }

  #start() {
    if (this.#viaBlob) {
      // Chromium lets the page's service worker answer a blob worker's requests but not a URL
      // worker's own script request, and the www page must start offline from its cache. The
      // blob imports worker.js by its absolute address, so worker.js (and the .wasm beside it)
      // resolve against where they are served, never against the blob: URL. (Pages with a
      // strict CSP need `worker-src blob:`.) Bundled apps do not need this: a bundler rewrites
      // the default below.
      const here = import.meta.url;
      const url = this.#workerUrl ? new URL(this.#workerUrl, globalThis.location?.href) : new URL('worker.js', here);
      const blob = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' }));
      setTimeout(() => URL.revokeObjectURL(blob), 60000);
      return new Worker(blob, { type: 'module' });
    }
    if (this.#workerUrl) return new Worker(this.#workerUrl, { type: 'module' });
    // Written exactly as bundlers expect (Vite, webpack, Parcel, esbuild, Rollup plugins): they
    // bundle worker.js with its imports as a worker chunk and rewrite this URL to it; unbundled,
    // it is the file beside this one.
    return new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  }

  #spawn() {
    const w = this.#start();
    w.onmessage = ({ data }) => {
      const p = this.#pending.get(data.id);
      if (!p) return;
      if (data.progress) {
        p.onProgress?.(...data.progress);
        return;
      }
      this.#pending.delete(data.id);
      if ('error' in data) p.reject(new Error(data.error));
      else p.resolve(data.result);
    };
    w.onerror = (e) => {
      const err = new Error(`seqlens worker failed: ${e.message ?? 'could not start'}`);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#kill();
    };
    this.#worker = w;
  }

  #kill() {
    this.#worker?.terminate();
    this.#worker = null;
  }

  #send(op, args, { onProgress, signal } = {}) {
    if (signal?.aborted) return Promise.reject(abortError());
    if (!this.#worker) this.#spawn();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const done = (f) => (v) => {
        signal?.removeEventListener('abort', onAbort);
        f(v);
      };
      const onAbort = () => {
        // The worker is inside a synchronous wasm call and cannot read messages: stop it.
        this.#kill();
        for (const [pid, p] of this.#pending) {
          p.reject(abortError());
          this.#pending.delete(pid);
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, { resolve: done(resolve), reject: done(reject), onProgress });
      this.#worker.postMessage({ id, op, args });
    });
  }

  async #call(op, args, opts) {
    if (!this.#worker) {
      // a fresh worker (after a cancel): restore what the last one held
      if (this.#load) await this.#send('load', this.#load);
      if (this.#genes && op !== 'loadGenes') await this.#send('loadGenes', this.#genes);
    }
    return this.#send(op, args, opts);
  }

  /**
   * Loads a model (bytes, or a File/Blob) on `backend` ('auto' | 'webgpu' | 'cpu' | 'tract',
   * as Model.load), with its `externalData` files (bytes or Files) if it has any; resolves to
   * its info, whose `backend` says where predictions run and why. A model that fails to load
   * leaves the one loaded before in place.
   */
  async load(bytes, overrides, { backend = 'auto', externalData } = {}) {
    const load = { bytes, overrides, backend, externalData, wasm: this.#wasm, threads: this.#threads };
    const info = await this.#send('load', load);
    // only a model that loaded is restored into a fresh worker after a cancel
    this.#load = load;
    return info;
  }

  /** As Model.predict; options `{onProgress, signal}`. Resolves with `backend` set. */
  predict(input, options, opts) {
    return this.#call('predict', { input, options }, opts);
  }

  /** As Model.attribute; options `{onProgress, signal}`. */
  attribute(input, options, opts) {
    return this.#call('attribute', { input, options }, opts);
  }

  /** As Model.marginalize; options `{signal}`. */
  marginalize(input, options, opts) {
    return this.#call('marginalize', { input, options }, opts);
  }

  /** As Model.ablate; options `{signal}`. */
  ablate(input, options, opts) {
    return this.#call('ablate', { input, options }, opts);
  }

  /** As Model.design; options `{onProgress, signal}`. */
  design(input, options, opts) {
    return this.#call('design', { input, options }, opts);
  }

  /**
   * Scores a VCF (text, bytes or File) against a reference FASTA File and its .fai (File or
   * text). The FASTA is read in slices inside the worker; it is never loaded whole or sent
   * anywhere.
   */
  scoreVariants(vcf, { fasta, fai }, options, opts) {
    return this.#call('scoreVariants', { vcf, fasta, fai, options }, opts);
  }

  /** Loads a gene table (bytes or a File/Blob) for scoreSplice; resolves to {genes}. */
  async loadGenes(bytes, name) {
    this.#genes = { bytes, name };
    return this.#call('loadGenes', this.#genes);
  }

  /**
   * CI-SpliceAI scores (as Model.scoreSplice) for `variants` (VCF text, bytes or File, or
   * typed variants) against a reference FASTA File with its .fai (File or text) and, for a
   * bgzf FASTA, its .gzi File, with the genes of loadGenes. The FASTA is read in slices
   * inside the worker, never loaded whole or sent anywhere.
   */
  scoreSplice(variants, { fasta, fai, gzi }, options, opts) {
    return this.#call('scoreSplice', { variants, fasta, fai, gzi, options }, opts);
  }

  /** As parseFasta (text, bytes or a File; gzip allowed), parsed in the worker. */
  parseFasta(data, name) {
    return this.#call('parseFasta', { data, name });
  }

  /** As logoSvg, computed in the worker. */
  logoSvg(map, symbols, options) {
    return this.#call('logoSvg', { map, symbols, options });
  }

  /** As formatPredictions, in the worker. */
  formatPredictions(predictions, format) {
    const { ids, labels, shape, windows, values } = predictions;
    return this.#call('formatPredictions', { predictions: { ids, labels, shape, windows, values }, format });
  }

  /** As callSeqlets, computed in the worker. */
  callSeqlets(attributions, options) {
    return this.#call('callSeqlets', { attributions, options });
  }

  /** As annotateSeqlets, computed in the worker. */
  annotateSeqlets(seqlets, options) {
    return this.#call('annotateSeqlets', { seqlets, options });
  }

  /** As discoverMotifs, in the worker; options `{onProgress, signal}` (onProgress is also
   * told each stage's name). */
  discoverMotifs(attributions, options, opts) {
    return this.#call('discoverMotifs', { attributions, options }, opts);
  }

  /** As patternSvg, computed in the worker. */
  patternSvg(pattern, options) {
    return this.#call('patternSvg', { pattern, options });
  }

  /** As logoRange, computed in the worker. */
  logoRange(map, symbols, options) {
    return this.#call('logoRange', { map, symbols, options });
  }

  /** As heatmapSvg, computed in the worker. */
  heatmapSvg(effects, sequence, symbols, options) {
    return this.#call('heatmapSvg', { effects, sequence, symbols, options });
  }

  /** As spliceFigureSvg, computed in the worker. */
  spliceFigureSvg(allele, annotation) {
    return this.#call('spliceFigureSvg', { allele, annotation });
  }

  /** Stops the worker; later calls start a new one. */
  terminate() {
    this.#kill();
    for (const p of this.#pending.values()) p.reject(new Error('seqlens worker terminated'));
    this.#pending.clear();
  }
}

function abortError() {
  return typeof DOMException !== 'undefined'
    ? new DOMException('cancelled', 'AbortError')
    : Object.assign(new Error('cancelled'), { name: 'AbortError' });
}
