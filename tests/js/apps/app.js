// The app a new user writes: seqlens imported by its package name, one model run on the page's
// main thread and again in a SeqlensWorker. Vite and webpack build this same file (production,
// no configuration) and the script-tag page loads it unbundled through an import map.
// bundlers.test.mjs calls window.seqlensApp(model bytes, FASTA text) in headless Chromium.
import { init, Model, SeqlensWorker } from 'seqlens';

const plain = (p) => ({ ids: p.ids, labels: p.labels, shape: p.shape, values: Array.from(p.values), backend: p.backend });

window.seqlensApp = async (bytes, fasta) => {
  await init();
  const model = await Model.load(bytes);
  const main = plain(await model.predict(fasta));
  model.free();
  const worker = new SeqlensWorker();
  try {
    const info = await worker.load(bytes);
    return { main, worker: plain(await worker.predict(fasta)), threading: info.threading };
  } finally {
    worker.terminate();
  }
};
document.body.dataset.ready = 'yes';
