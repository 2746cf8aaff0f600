// The seqlens Web Worker: runs the model off the page's main thread. Started by
// SeqlensWorker (client.js); speaks {id, op, args} -> {id, progress} | {id, result} | {id, error}.
import { init, Model, Genes, fileGenome, formatPredictions, logoSvg, logoRange, callSeqlets, annotateSeqlets, discoverMotifs, patternSvg, heatmapSvg, parseFasta, spliceFigureSvg } from './index.js';

let model = null;
let genes = null;

async function bytesOf(data) {
  if (typeof Blob !== 'undefined' && data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  return data;
}

// Float32Arrays go back by transfer, not copy.
function transfers(value, out = []) {
  if (value instanceof Float32Array) out.push(value.buffer);
  else if (Array.isArray(value)) value.forEach((v) => transfers(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => transfers(v, out));
  return out;
}

const ops = {
  async load({ bytes, overrides, backend, externalData, wasm, threads }) {
    await init(wasm, { threads });
    const external = externalData
      ? Object.fromEntries(await Promise.all(Object.entries(externalData).map(async ([k, v]) => [k, await bytesOf(v)])))
      : undefined;
    // The old model goes only once the new one has loaded: a bad file loses nothing.
    const next = await Model.load(await bytesOf(bytes), overrides, { backend, externalData: external });
    model?.free();
    model = next;
    return model.info();
  },
  predict: ({ input, options }, onProgress) => model.predict(input, options, { onProgress }),
  attribute: ({ input, options }, onProgress) => model.attribute(input, options, { onProgress }),
  design: ({ input, options }, onProgress) => model.design(input, options, { onProgress }),
  marginalize: ({ input, options }) => model.marginalize(input, options),
  ablate: ({ input, options }) => model.ablate(input, options),
  parseFasta: async ({ data, name }) => parseFasta(await bytesOf(data), name),
  logoSvg: ({ map, symbols, options }) => logoSvg(map, symbols, options),
  logoRange: ({ map, symbols, options }) => logoRange(map, symbols, options),
  callSeqlets: ({ attributions, options }) => callSeqlets(attributions, options),
  annotateSeqlets: ({ seqlets, options }) => annotateSeqlets(seqlets, options),
  discoverMotifs: ({ attributions, options }, onProgress) => discoverMotifs(attributions, options, { onProgress }),
  patternSvg: ({ pattern, options }) => patternSvg(pattern, options),
  formatPredictions: ({ predictions, format }) => formatPredictions(predictions, format),
  heatmapSvg: ({ effects, sequence, symbols, options }) => heatmapSvg(effects, sequence, symbols, options),
  spliceFigureSvg: ({ allele, annotation }) => spliceFigureSvg(allele, annotation),
  async scoreVariants({ vcf, fasta, fai, options }, onProgress) {
    const faiText = typeof fai === 'string' ? fai : await fai.text();
    const genome = fileGenome(fasta, faiText);
    return model.scoreVariants(await bytesOf(vcf), genome, options, { onProgress });
  },
  async loadGenes({ bytes, name }) {
    genes?.free();
    genes = null;
    genes = await Genes.load(await bytesOf(bytes), name);
    return { genes: genes.length };
  },
  async scoreSplice({ variants, fasta, fai, gzi, options }, onProgress) {
    if (!genes) throw new Error('no gene table loaded: call loadGenes() first');
    const faiText = typeof fai === 'string' ? fai : await fai.text();
    const genome = fileGenome(fasta, faiText, gzi ? await bytesOf(gzi) : undefined);
    const input = typeof variants === 'string' ? variants : await bytesOf(variants);
    return model.scoreSplice(input, genome, genes, options, { onProgress });
  },
};

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    if (!ops[op]) throw new Error(`unknown operation '${op}'`);
    if (!['load', 'loadGenes', 'parseFasta', 'logoSvg', 'logoRange', 'callSeqlets', 'annotateSeqlets', 'discoverMotifs', 'patternSvg', 'formatPredictions', 'heatmapSvg', 'spliceFigureSvg'].includes(op) && !model) throw new Error('no model loaded: call load() first');
    if (op !== 'load') await init();
    const onProgress = (...progress) => {
      self.postMessage({ id, progress });
      return true;
    };
    const result = await ops[op](args, onProgress);
    self.postMessage({ id, result }, transfers(result));
  } catch (e) {
    self.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
};
