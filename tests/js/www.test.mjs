// The www/ page in headless Chromium: loads the bundled model, predicts the sample FASTA
// through the UI, shows a readable error for bad input and a corrupt model, and makes no
// request outside its own origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, readTsv } from './golden.mjs';

let browser, server, url, page;
const requests = [];

before(async () => {
  ({ server, url } = await serve());
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${url}/www/index.html`);
  await page.waitForFunction(() => !document.getElementById('predict').disabled, null, { timeout: 30000 });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('the page shows the model and predicts the sample FASTA', async () => {
  const info = await page.textContent('#model-info');
  assert.match(info, /labels: CTCF, GATA1/);
  assert.match(info, /backend: CPU/);
  await page.click('#load-sample');
  await page.waitForFunction(() => document.getElementById('fasta').value.startsWith('>ctcf_site'));
  await page.click('#predict');
  await page.waitForSelector('#results tbody tr');
  const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const golden = readTsv(`${ROOT}/tests/golden/demo_sample.tsv`);
  assert.deepEqual(rows.map((r) => r[0]), golden.ids);
  // The table shows 3 decimals of onnxruntime's values.
  rows.forEach((r, i) => golden.values[i].forEach((v, j) => assert.equal(r[3 + j], v.toFixed(3))));
  // Sorting by a label column orders the rows by it.
  await page.click('#results th[data-col="2"]');
  const spi1 = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => Number(tr.cells[5].textContent)));
  assert.deepEqual(spi1, [...spi1].sort((a, b) => b - a));
});

test('bad input and a corrupt model show readable errors in the page', async () => {
  await page.fill('#fasta', 'this is not FASTA');
  await page.click('#predict');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /input: line 1: expected a FASTA header/);
  await page.setInputFiles('#model-file', { name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model') });
  await page.waitForFunction(() => /could not be loaded/.test(document.getElementById('model-info').textContent));
  assert.match(await page.textContent('#error'), /not a valid ONNX model/);
});

test('no request leaves the page origin', async () => {
  assert.ok(requests.length > 0);
  const foreign = requests.filter((r) => !r.startsWith(url) && !r.startsWith('blob:') && !r.startsWith('data:'));
  assert.deepEqual(foreign, []);
});
