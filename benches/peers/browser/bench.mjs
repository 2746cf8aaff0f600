// In-browser prediction: seqlens in wasm (simd128) on its CPU backend (the seqlens engine)
// and on tract, vs onnxruntime-web (wasm backend, SIMD), on the same model, batch, input and
// thread count, in the same headless Chromium run. The page is cross-origin isolated
// (scripts/serve.mjs sends COOP/COEP): at 1 thread seqlens runs its plain build and
// onnxruntime-web one thread; at N > 1 seqlens runs its threaded build on N Web Workers and
// onnxruntime-web sets numThreads = N. seqlens runs in its SeqlensWorker (the threaded build
// must: its calling thread waits on the pool), onnxruntime-web on the page as its docs show.
// Prints the throughputs and the ratios.
//
//   python3 benches/peers/make_model.py && bash scripts/build-pkg.sh
//   cd benches/peers/browser && npm ci && node bench.mjs [model path relative to repo root]
import { chromium } from 'playwright-core';
import { serve } from '../../../scripts/serve.mjs';

const model = process.argv[2] ?? 'benches/peers/deepsea.onnx';
const batches = (process.env.SEQLENS_BENCH_BATCHES ?? '1,16').split(',').map(Number);
const threadCounts = (process.env.SEQLENS_BENCH_THREADS ?? '1,2').split(',').map(Number);
const { server, url } = await serve();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  for (const threads of threadCounts) {
    // A fresh page per thread count: onnxruntime-web fixes numThreads when it first loads.
    const page = await browser.newPage();
    page.on('console', (m) => console.error('[page]', m.text()));
    await page.goto(`${url}/tests/js/page.html`);
    const results = await page.evaluate(async ({ model, batches, threads }) => {
      const { SeqlensWorker } = await import('/pkg/index.js');
      const ort = await import('/benches/peers/browser/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
      ort.env.wasm.numThreads = threads;
      ort.env.wasm.wasmPaths = '/benches/peers/browser/node_modules/onnxruntime-web/dist/';
      const bytes = new Uint8Array(await (await fetch(`/${model}`)).arrayBuffer());
      const ours = new SeqlensWorker({ threads });
      const viaTract = new SeqlensWorker({ threads });
      const info = await ours.load(bytes, null, { backend: 'cpu' });
      await viaTract.load(bytes, null, { backend: 'tract' });
      if (info.backend.engine !== 'seqlens') throw new Error(`the engine does not run the model: ${info.backend.reason}`);
      if (info.threading.threads !== threads) throw new Error(`seqlens runs ${JSON.stringify(info.threading)}, not ${threads} threads`);
      const length = info.metadata.length ?? 1000;
      const inputName = info.inputs[0].name;
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      let x = 7;
      const rand = () => { x = (x * 1103515245 + 12345) % 2147483648; return x >> 16; };
      const out = [];
      for (const batch of batches) {
        const seqs = Array.from({ length: batch }, () =>
          Array.from({ length }, () => 'ACGT'[rand() & 3]).join(''));
        const onehot = new Float32Array(batch * 4 * length);
        seqs.forEach((s, b) => [...s].forEach((ch, i) => { onehot[(b * 4 + 'ACGT'.indexOf(ch)) * length + i] = 1; }));
        const feeds = { [inputName]: new ort.Tensor('float32', onehot, [batch, 4, length]) };
        const time = async (fn) => {
          await fn();
          let runs = 0;
          const t0 = performance.now();
          while (performance.now() - t0 < 5000 || runs < 3) { await fn(); runs++; }
          return (runs * batch * 1000) / (performance.now() - t0);
        };
        const s = await time(() => ours.predict(seqs, { batchSize: batch }));
        const t = await time(() => viaTract.predict(seqs, { batchSize: batch }));
        const o = await time(() => session.run(feeds));
        out.push({ batch, seqlens: s, tract: t, ort: o, build: info.threading.build });
      }
      ours.terminate();
      viaTract.terminate();
      return out;
    }, { model, batches, threads });
    await page.close();
    for (const r of results) {
      console.log(`threads=${threads} (${r.build}) batch=${r.batch} seqlens-engine seq_per_s=${r.seqlens.toFixed(2)} seqlens-tract seq_per_s=${r.tract.toFixed(2)} onnxruntime-web seq_per_s=${r.ort.toFixed(2)} engine/ort=${(r.seqlens / r.ort).toFixed(2)} tract/ort=${(r.tract / r.ort).toFixed(2)}`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
