// The npm package in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download). The page imports pkg/index.js as an ES module from a
// 127.0.0.1 server, loads the bundled model, predicts the sample FASTA, and the result is
// compared with onnxruntime's (golden) and with the native CLI's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, readTsv, assertMatches } from './golden.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
let browser, server, url, page;

before(async () => {
  ({ server, url } = await serve());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${url}/tests/js/page.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function predictInPage(options) {
  return page.evaluate(async (options) => {
    const { init, Model } = await import('/pkg/index.js');
    await init();
    const bytes = new Uint8Array(await (await fetch('/examples/models/demo.onnx')).arrayBuffer());
    const fasta = await (await fetch('/examples/data/sample.fa')).text();
    const model = await Model.load(bytes);
    const r = await model.predict(fasta, options);
    return { ids: r.ids, labels: r.labels, shape: r.shape, values: Array.from(r.values),
      isF32: r.values instanceof Float32Array, backend: r.backend };
  }, options);
}

test('Chromium predictions match onnxruntime and the native CLI', async () => {
  const got = await predictInPage({});
  assert.ok(got.isF32);
  assert.equal(got.backend, 'cpu');
  assertMatches(got, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-5, 'onnxruntime');
  const nativePath = process.env.SEQLENS_NATIVE_TSV;
  assert.ok(nativePath, 'set SEQLENS_NATIVE_TSV to the CLI output for examples/data/sample.fa (scripts/test-all.sh does)');
  assertMatches(got, readTsv(nativePath), 1e-5, 'native CLI');
});

test('Chromium rc-average matches onnxruntime', async () => {
  const got = await predictInPage({ rcAverage: true });
  assertMatches(got, readTsv(`${ROOT}/tests/golden/demo_sample_rc.tsv`), 1e-5, 'onnxruntime');
});

test('a malformed model gives a JS Error, not a trap', async () => {
  const msg = await page.evaluate(async () => {
    const { init, Model } = await import('/pkg/index.js');
    await init();
    const bytes = new Uint8Array(await (await fetch('/examples/models/demo.onnx')).arrayBuffer());
    try {
      await Model.load(bytes.subarray(0, bytes.length - 700));
      return 'no error';
    } catch (e) {
      return `${e.constructor.name}: ${e.message}`;
    }
  });
  assert.match(msg, /^Error: not a valid ONNX model/);
});

test('bad FASTA gives a JS Error naming the problem', async () => {
  const msg = await page.evaluate(async () => {
    const { Model } = await import('/pkg/index.js');
    const bytes = new Uint8Array(await (await fetch('/examples/models/demo.onnx')).arrayBuffer());
    const model = await Model.load(bytes);
    try {
      await model.predict('%PDF-1.4 binary');
      return 'no error';
    } catch (e) {
      return `${e.constructor.name}: ${e.message}`;
    }
  });
  assert.match(msg, /^Error: input: line 1: expected a FASTA header/);
});
