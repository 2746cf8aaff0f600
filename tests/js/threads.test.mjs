// The threaded build (pkg/threads/: wasm atomics, rayon's pool on Web Workers) in headless
// Chromium. The page is served cross-origin isolated (COOP/COEP), so SeqlensWorker's worker
// loads it; the expected numbers are onnxruntime's goldens for the demo model, and for every
// preset the native CPU engine's outputs (SEQLENS_PRESETS_DIR, written by tests/gpu.rs), which
// the engine must reproduce with its kernels split over two and three Web Workers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, readTsv, assertMatches, launchChromium } from './golden.mjs';

const PRESETS = ['deepbind', 'basset', 'deepsea', 'bpnet'];
let browser, isolated, plain;

before(async () => {
  isolated = await serve();
  plain = await serve(0, { isolated: false });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  isolated?.server.close();
  plain?.server.close();
});

async function pageAt(url) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${url}/tests/js/page.html`);
  return page;
}

/** In a SeqlensWorker on `threads`: loads `bytes`, predicts `fasta`, and for a DNA model of
 * any length also takes the gradient of its first label. */
function inWorker(page, { bytes, fasta, threads, attribute = false }) {
  return page.evaluate(async ({ bytes, fasta, threads, attribute }) => {
    const { SeqlensWorker } = await import('/pkg/index.js');
    const w = new SeqlensWorker({ threads });
    try {
      const info = await w.load(new Uint8Array(bytes), null, { backend: 'cpu' });
      const r = await w.predict(fasta, { batchSize: 5 });
      const out = { threading: info.threading, backend: info.backend, ids: r.ids, labels: r.labels,
        shape: r.shape, values: Array.from(r.values) };
      if (attribute) {
        const [g] = await w.attribute(fasta, { method: 'grad', target: [info.labels?.[0] ?? r.labels[0]] });
        out.grad = Array.from(g.map);
      }
      return out;
    } catch (e) {
      return { error: e.message };
    } finally {
      w.terminate();
    }
  }, { bytes: Array.from(bytes), fasta, threads, attribute });
}

const demo = readFileSync(`${ROOT}/examples/models/demo.onnx`);
const sampleFa = readFileSync(`${ROOT}/examples/data/sample.fa`, 'utf8');

test('threaded build: the demo model on two workers matches onnxruntime and the plain build', async () => {
  const page = await pageAt(isolated.url);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  const two = await inWorker(page, { bytes: demo, fasta: sampleFa, threads: 2, attribute: true });
  assert.equal(two.error, undefined, two.error);
  assert.deepEqual(two.threading, { build: 'threads', threads: 2, reason: null });
  assert.equal(two.backend.engine, 'seqlens');
  assertMatches(two, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-5, 'onnxruntime');
  const one = await inWorker(page, { bytes: demo, fasta: sampleFa, threads: 1, attribute: true });
  assert.deepEqual(one.threading, { build: 'plain', threads: 1, reason: 'one thread was asked for' });
  // The same kernels over other splits of the batch: the same sums in the same order.
  assert.deepEqual(two.values, one.values);
  assert.ok(one.grad.some((v) => v !== 0));
  assert.deepEqual(two.grad, one.grad);
  await page.close();
});

test('threaded build: every preset on three workers equals the native CPU engine', async (t) => {
  const dir = process.env.SEQLENS_PRESETS_DIR;
  if (!dir) {
    t.skip('SEQLENS_PRESETS_DIR is not set (scripts/test-all.sh sets it after the Rust GPU tests)');
    return;
  }
  const page = await pageAt(isolated.url);
  for (const name of PRESETS) {
    assert.ok(existsSync(`${dir}/${name}.onnx`), `${dir}/${name}.onnx: run the Rust GPU tests first`);
    const { fasta, cpu } = JSON.parse(readFileSync(`${dir}/${name}.json`, 'utf8'));
    const got = await inWorker(page, { bytes: readFileSync(`${dir}/${name}.onnx`), fasta, threads: 3 });
    assert.equal(got.error, undefined, `${name}: ${got.error}`);
    assert.equal(got.threading.build, 'threads', name);
    assert.equal(got.threading.threads, 3, name);
    assert.equal(got.values.length, cpu.length, name);
    const scale = Math.max(1e-3, ...cpu.map(Math.abs));
    cpu.forEach((want, i) => assert.ok(Math.abs(got.values[i] - want) <= 1e-5 * scale,
      `${name} value ${i}: threaded wasm ${got.values[i]} vs native CPU engine ${want}`));
  }
  await page.close();
});

test('threads are refused, naming why, where they cannot run; the default falls back', async () => {
  const page = await pageAt(plain.url);
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  const refused = await inWorker(page, { bytes: demo, fasta: sampleFa, threads: 2 });
  assert.match(refused.error, /^cannot run on 2 threads: the page is not cross-origin isolated/);
  const fallback = await inWorker(page, { bytes: demo, fasta: sampleFa });
  assert.equal(fallback.threading.build, 'plain');
  assert.match(fallback.threading.reason, /not cross-origin isolated/);
  assertMatches(fallback, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-5, 'onnxruntime');
  // On a page's main thread the calling thread would have to wait on the workers: refused.
  const main = await page.evaluate(async () => {
    const { init } = await import('/pkg/index.js');
    try {
      await init(undefined, { threads: 2 });
      return 'no error';
    } catch (e) {
      return e.message;
    }
  });
  assert.match(main, /^cannot run on 2 threads: threads run only inside a Web Worker/);
  await page.close();
});
