// The www/ page in headless Chromium, end to end through its UI: loads the bundled model,
// predicts the sample FASTA, draws an attribution logo and an ISM heatmap, scores the sample
// VCF against the sample genome (read by slices in the worker) with ref-vs-alt logos, shows
// readable errors, works offline after the first visit, and (the privacy promise) makes no
// request outside its origin and no request at all while an analysis runs. A second browser
// without WebGPU shows the CPU fallback and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, readTsv, launchChromium } from './golden.mjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

let browser, context, server, url, page;
const requests = [];
const failed = [];

async function openPage(b, onRequest) {
  const ctx = await b.newContext();
  if (onRequest) ctx.on('request', onRequest);
  const p = await ctx.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  // the README's address
  await p.goto(`${url}/www/`);
  await p.waitForFunction(() => !document.getElementById('predict').disabled, null, { timeout: 60000 });
  return { ctx, p };
}

before(async () => {
  ({ server, url } = await serve());
  // WebGPU on: Chromium's software adapter (SwiftShader).
  browser = await launchChromium({ webgpu: true });
  // Every request the page, its worker or its service worker makes, from the first.
  ({ ctx: context, p: page } = await openPage(browser, (r) => requests.push({ url: r.url(), at: performance.now() })));
  context.on('requestfailed', (r) => failed.push({ url: r.url(), error: r.failure()?.errorText }));
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Waits until no request has been logged for half a second: the service worker's own
 * fetches (network first) reach this process after the page already has their response. */
async function settled() {
  let seen = -1;
  while (seen !== requests.length) {
    seen = requests.length;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Runs `action` and asserts that no request at all was made until `done` resolved. */
async function withoutRequests(what, action) {
  await settled();
  const from = requests.length;
  await action();
  const during = requests.slice(from).map((r) => r.url);
  assert.deepEqual(during, [], `${what} made requests`);
}

test("the README's address serves the page, with or without its last slash", async () => {
  const r = await fetch(`${url}/www`, { redirect: 'manual' });
  assert.equal(r.status, 301);
  assert.equal(r.headers.get('location'), '/www/');
  const page = await fetch(`${url}/www/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>seqlens/);
});

test('the page shows the model and its backend, and predicts the sample FASTA', async () => {
  // what the model is and what its values mean, in one line
  assert.match(await page.textContent('#model-about'),
    /^demo\.onnx \(bundled\): A demo: .*planted JASPAR motifs.*not a model of real biology\. It reads 500-bp DNA sequences and gives .* for 8 labels \(CTCF, GATA1, /);
  const info = await page.textContent('#model-info');
  assert.match(info, /labels: CTCF, GATA1/);
  // Chromium's only adapter here is SwiftShader: auto keeps the CPU and says why. The test
  // server sends COOP/COEP, so the worker runs the threaded build on every core.
  assert.match(info, /backend: CPU \(WebAssembly SIMD in a worker, \d+ threads\)\. WebGPU not used: the GPU adapter is a software renderer/);
  await page.click('#load-sample');
  await page.waitForFunction(() => document.getElementById('fasta').value.startsWith('>ctcf_site'));
  await withoutRequests('prediction', async () => {
    await page.click('#predict');
    await page.waitForSelector('#results tbody tr');
  });
  const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const golden = readTsv(`${ROOT}/tests/golden/demo_sample.tsv`);
  assert.deepEqual(rows.map((r) => r[0]), golden.ids);
  // The table shows 3 decimals of onnxruntime's values.
  rows.forEach((r, i) => golden.values[i].forEach((v, j) => assert.equal(r[3 + j], v.toFixed(3))));
  // The TSV download is the CLI's table: its header, and onnxruntime's numbers within 1e-5.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-tsv')]);
  assert.equal(dl.suggestedFilename(), 'predictions.tsv');
  const tsv = readFileSync(await dl.path(), 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(tsv[0], ['id', 'chrom', 'start', 'end', ...golden.labels]);
  tsv.slice(1).forEach((r, i) => golden.values[i].forEach((v, j) => assert.ok(Math.abs(Number(r[4 + j]) - v) <= 1e-5, `${r[0]} ${j}`)));
  // Sorting by a label column orders the rows by it.
  await page.click('#results th[data-col="2"]');
  const spi1 = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => Number(tr.cells[5].textContent)));
  assert.deepEqual(spi1, [...spi1].sort((a, b) => b - a));
});

test('"Run the demo" goes from an empty page to predictions and the logo of a confident hit', async () => {
  await page.click('#run-demo');
  await page.waitForFunction(() => /SPI1 =/.test(document.getElementById('explain-note').textContent), null, { timeout: 60000 });
  assert.equal((await page.$$('#results tbody tr')).length, 7);
  assert.match(await page.textContent('#logo svg text'), /spi1_short — SPI1 — gradient × input/);
  // SPI1 on spi1_short is 0.994 (onnxruntime, tests/golden/demo_sample.tsv)
  assert.match(await page.textContent('#explain-note'), /^SPI1 = 0\.99/);
});

test('a logo and an ISM heatmap render for a selected sequence and label', async () => {
  await page.selectOption('#explain-label', { label: 'SPI1' });
  await page.selectOption('#explain-method', 'fast-ism');
  await withoutRequests('attribution', async () => {
    // Clicking the spi1_short row explains it.
    await page.click('#results tbody tr:has(td:text-is("spi1_short"))');
    await page.waitForFunction(() => document.querySelector('#heatmap svg') && /SPI1 =/.test(document.getElementById('explain-note').textContent));
  });
  const svg = await page.$eval('#logo', (d) => ({ paths: d.querySelectorAll('path').length, title: d.querySelector('text').textContent }));
  assert.ok(svg.paths > 50, `logo letters: ${svg.paths}`);
  assert.match(svg.title, /spi1_short — SPI1/);
  // The figures draw the positions that fit their box, so the title, the y scale, the A/C/G/T
  // row labels and the colour scale stay in view; the buttons move both figures together.
  const fig = async () => page.evaluate(() => ({
    where: document.querySelector('#explain-nav .fig-where').textContent,
    fits: [...document.querySelectorAll('#logo > svg, #heatmap > svg')].every((svg) => svg.width.baseVal.value <= svg.parentElement.clientWidth),
    rows: [...document.querySelectorAll('#heatmap > svg > text[font-weight="bold"]')].map((t) => t.textContent).join(''),
    scale: /effect: /.test(document.querySelector('#heatmap').textContent),
    cells: document.querySelectorAll('#heatmap rect[fill^="#"]:not(.mark)').length,
  }));
  const before = await fig();
  assert.equal(before.fits, true);
  assert.equal(before.rows, 'ACGT');
  assert.equal(before.scale, true);
  assert.ok(before.cells >= 4 * 60, `heatmap cells: ${before.cells}`);
  assert.match(before.where, /^positions -?\d+–-?\d+ \(\d+ of 500\)$/);
  await page.click('#explain-nav .fig-on');
  await page.waitForFunction((w) => document.querySelector('#explain-nav .fig-where').textContent !== w, before.where);
  const after = await fig();
  assert.equal(after.fits && after.rows === 'ACGT' && after.scale, true);
  // the colour-blind palette: Okabe-Ito letters, a purple-orange heatmap
  await page.check('#palette');
  // The logo and the heatmap are redrawn one after the other: wait for both.
  await page.waitForFunction(() => document.querySelector('#logo').innerHTML.includes('#0072B2')
    && /#542788|#b35806/.test(document.querySelector('#heatmap').innerHTML));
  assert.doesNotMatch(await page.innerHTML('#logo'), /#255C99/);
  await page.uncheck('#palette');
  await page.waitForFunction(() => document.querySelector('#logo').innerHTML.includes('#255C99'));
  // The screenshot is a real picture: many distinct colours, not a blank box.
  const png = await page.locator('#logo').screenshot();
  assert.ok(png.length > 3000, `logo screenshot is ${png.length} bytes`);
  // Integrated gradients through the same controls.
  await page.selectOption('#explain-method', 'ig');
  await page.click('#explain');
  await page.waitForFunction(() => /integrated gradients/.test(document.querySelector('#logo svg text')?.textContent ?? ''));
  // DeepLIFT/SHAP: the logo, with the convergence delta beside it (DeepLIFT's rules make it
  // rounding on the demo model; the package's test checks the numbers against tangermeme).
  await page.selectOption('#explain-method', 'deeplift-shap');
  await page.click('#explain');
  await page.waitForFunction(() => /DeepLIFT\/SHAP/.test(document.querySelector('#logo svg text')?.textContent ?? ''), null, { timeout: 60000 });
  const note = await page.textContent('#explain-note');
  const delta = Number(/Convergence delta (\S+) \(largest over the references\)\./.exec(note)?.[1]);
  assert.ok(delta < 1e-4, note);
  // The seqlets of that explanation: rows whose bases are the logo's at their positions.
  assert.equal(await page.isVisible('#seqlets'), true);
  const rows = await page.$$eval('#seqlets tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.ok(rows.length >= 1 && rows.every((r) => r.length === 7 && Number(r[4]) < 0.01), JSON.stringify(rows));
  // Each named with its best JASPAR motif and q-value, computed in the tab (the package's
  // test checks the numbers against memelite).
  assert.ok(rows.every((r) => /^MA\d+\.\d+ \S+ \([+-]\)$/.test(r[5]) && Number(r[6]) <= 1), JSON.stringify(rows));
});

test('motif discovery over every input sequence names the motifs the demo model learned, in the tab', { timeout: 300000 }, async () => {
  // Its own page: 150 training sequences replace the sample in the box. The numbers are the
  // library's (tests/motif.rs holds them to modisco-lite 3.0.0; the package's test to the
  // same names); this checks that the page runs the chain and shows it.
  const seen = [];
  // CSP bypassed only so that axe can be injected at the end; the request log still
  // checks that nothing is fetched during the analysis.
  const ctx = await browser.newContext({ bypassCSP: true });
  ctx.on('request', (r) => seen.push(r.url()));
  try {
    const p = await ctx.newPage();
    await p.goto(`${url}/www/`);
    await p.waitForFunction(() => !document.getElementById('predict').disabled, null, { timeout: 60000 });
    const fasta = readFileSync(`${ROOT}/examples/data/train/motifs.fa`, 'utf8').split('\n').slice(0, 300).join('\n');
    await p.fill('#fasta', fasta);
    await p.click('#predict');
    await p.waitForFunction(() => document.querySelectorAll('#results tbody tr').length > 0, null, { timeout: 120000 });
    await p.selectOption('#motif-label', 'all');
    const from = seen.length;
    await p.click('#discover');
    await p.waitForFunction(() => !document.getElementById('motifs').hidden || !document.getElementById('error-motifs').hidden, null, { timeout: 280000 });
    assert.equal(await p.isVisible('#error-motifs'), false, await p.textContent('#error-motifs'));
    assert.deepEqual(seen.slice(from), [], 'discovery made requests');
    const rows = await p.$$eval('#motifs tbody tr', (trs) => trs.map((tr) => ({
      cells: [...tr.cells].slice(0, 4).map((c) => c.textContent),
      titles: [...tr.querySelectorAll('svg text')].map((t) => t.textContent).filter((t) => /seqlets|bits/.test(t)),
    })));
    const named = rows.filter((r) => r.cells[0].startsWith('pos_')).map((r) => r.cells[2]);
    for (const want of [/ Spi1 /, / CTCF /, / HNF4[AG] /, / CEBP[BE] /, / TP53 /, / REST /]) {
      assert.ok(named.some((n) => want.test(n)), `${want} not among ${named}`);
    }
    for (const r of rows) {
      assert.ok(Number(r.cells[1]) >= 20, JSON.stringify(r));
      // The pattern's logo, and its match's under it.
      assert.equal(r.titles.length, 2, JSON.stringify(r));
      assert.ok(r.titles[1].startsWith(r.cells[2].split(' (')[0]), JSON.stringify(r));
    }
    assert.match(await p.textContent('#motif-summary'), /^\d+ seqlets; \d+ clustered as positive and \d+ as negative; \d+ patterns\.$/);
    assert.equal(await p.isVisible('#download-motifs'), true);
    // The table and its figures are accessible (as the rest of the page: axe-core).
    await p.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    const violations = await p.evaluate(async () => (await window.axe.run('#explain-section', { resultTypes: ['violations'] })).violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, help: v.help })));
    assert.deepEqual(violations, [], JSON.stringify(violations));
  } finally {
    await ctx.close();
  }
});

test('the sample VCF is scored against the sample genome, with ref-vs-alt logos', async () => {
  await page.click('#load-sample-variants');
  await page.waitForFunction(() => !document.getElementById('score').disabled);
  await withoutRequests('variant scoring', async () => {
    await page.click('#score');
    await page.waitForSelector('#variants tbody tr');
  });
  const rows = await page.$$eval('#variants tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, 6);
  assert.deepEqual(rows.map((r) => r[3]), Array(6).fill('ok'));
  assert.equal(rows[2][0], 'chrA:9010 (spi1_ins)');
  // every value column names the label it is for, and sorts
  const head = await page.$$eval('#variants thead th', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(head.slice(4, 7), ['ref pred (CTCF)', 'alt pred (CTCF)', 'diff (CTCF)']);
  await page.click('#variants th[data-col="6"]');
  const diffs = await page.$$eval('#variants tbody tr', (trs) => trs.map((tr) => Number(tr.cells[6].textContent)));
  assert.deepEqual(diffs, [...diffs].sort((a, b) => b - a));
  assert.equal(await page.getAttribute('#variants th[data-col="6"]', 'aria-sort'), 'descending');
  await page.click('#variants th[data-col="6"]');
  const up = await page.$$eval('#variants tbody tr', (trs) => trs.map((tr) => Number(tr.cells[6].textContent)));
  assert.deepEqual(up, [...diffs].reverse());
  // back to file order for the row clicks below
  await page.click('#score');
  await page.waitForFunction(() => document.querySelector('#variants th[data-col="6"]')?.getAttribute('aria-sort') === 'none');
  await page.click('#variants tbody tr:nth-child(3)');
  await page.waitForSelector('#logo-alt svg');
  assert.match(await page.textContent('#logo-alt svg text'), /alt allele/);
  // one y scale and one stretch of positions for both alleles, the allele's bases shaded
  const panels = () => page.$$eval('#logo-ref > svg, #logo-alt > svg', (svgs) => svgs.map((svg) => ({
    scale: [...svg.querySelectorAll(':scope > text[text-anchor="end"]')].map((t) => t.textContent).join(' '),
    ticks: [...svg.querySelectorAll(':scope > text[text-anchor="middle"]')].map((t) => t.textContent).join(' '),
    marks: svg.querySelectorAll('.mark').length,
  })));
  const [ref, alt] = await panels();
  assert.equal(ref.scale, alt.scale);
  assert.equal(ref.ticks, alt.ticks);
  assert.equal(ref.marks, 1); // spi1_ins: REF is one base
  assert.ok(alt.marks > 1, `ALT of an insertion shades ${alt.marks} bases`);
  await page.click('#variant-logos .fig-on');
  await page.waitForFunction((t) => document.querySelector('#logo-ref > svg > text[text-anchor="middle"]')?.textContent !== t.split(' ')[0], ref.ticks);
  const [ref2, alt2] = await panels();
  assert.equal(ref2.ticks, alt2.ticks);
  assert.notEqual(ref2.ticks, ref.ticks);
});

test('splice variants: the example scored with CI-SpliceAI equals cispliceai, with a figure per row', async () => {
  await page.click('#splice-example');
  await page.waitForFunction(() => !document.getElementById('splice-score').disabled && document.getElementById('busy').hidden, null, { timeout: 120000 });
  await page.fill('#splice-distance', '50');
  await page.check('#splice-mask');
  await withoutRequests('splice scoring', async () => {
    await page.click('#splice-score');
    await page.waitForSelector('#splice-table tbody tr', { timeout: 300000 });
  });
  // The table's numbers (2 decimals, as cispliceai prints them) against cispliceai's
  // unrounded ones (golden, --distance 50 --mask); tests/js/browser.test.mjs checks the
  // unrounded values in Chromium.
  const golden = JSON.parse(readFileSync(`${ROOT}/tests/golden/cispliceai/golden.json`, 'utf8')).fixed.d50_mask;
  const rows = await page.$$eval('#splice-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, 22);
  for (const w of golden.filter((g) => !g.annotations[0].error)) {
    const row = rows.find((r) => r[0].includes(`(${w.id})`) && r[0].includes(`>${w.alt} `));
    assert.ok(row, `no row for ${w.id}`);
    const best = w.annotations.find((a) => a.area === w.most_significant.split('|')[1]);
    assert.equal(row[1], best.area, w.id);
    ['DS_AG', 'DS_AL', 'DS_DG', 'DS_DL'].forEach((k, j) => assert.ok(Math.abs(Number(row[2 + j]) - best[k]) <= 0.0051, `${w.id} ${k} ${row[2 + j]} vs ${best[k]}`));
  }
  assert.ok(rows.some((r) => r[10] === 'symbolic_allele') && rows.some((r) => r[10] === 'ref_mismatch'));
  // a row's figure: labelled acceptor and donor panels with the changed sites marked
  await page.click('#splice-table tbody tr:has(td:text-matches("A_donor1"))');
  await page.waitForSelector('#splice-figure svg');
  const fig = await page.innerHTML('#splice-figure');
  assert.match(fig, /acceptor/);
  assert.match(fig, /donor/);
  assert.match(fig, /loss 0\.\d\d/);
  // sorting by DS_DL orders the scored rows by it
  await page.click('#splice-table th[data-col="5"]');
  const dl = await page.$$eval('#splice-table tbody tr', (trs) => trs.map((tr) => tr.cells[5].textContent).filter(Boolean).map(Number));
  assert.deepEqual(dl, [...dl].sort((a, b) => b - a));
});

test('the first choice on the page is the real model: one click scores the example with CI-SpliceAI', async () => {
  const first = await page.$eval('header button', (b) => b.id);
  assert.equal(first, 'try-splice');
  // the options as a new visitor finds them (the test before changed them)
  await page.fill('#splice-distance', '1000');
  await page.uncheck('#splice-mask');
  await page.click('#try-splice');
  await page.waitForFunction(() => /distance 1000\)/.test(document.getElementById('splice-summary').textContent) && document.getElementById('busy').hidden,
    null, { timeout: 300000 });
  assert.match(await page.textContent('#splice-summary'), /^22 alleles, 19 scored \(distance 1000\)\.$/);
  assert.equal((await page.$$('#splice-table tbody tr')).length, 22);
});

test("the page's Content-Security-Policy stops sequence data from leaving for another origin", async () => {
  // A second server on another port (another origin) counts what reaches it.
  const { createServer } = await import('node:http');
  let hits = 0;
  const other = createServer((req, res) => { hits++; res.writeHead(204).end(); });
  await new Promise((ok) => other.listen(0, '127.0.0.1', ok));
  const elsewhere = `http://127.0.0.1:${other.address().port}`;
  try {
    const got = await page.evaluate(async (elsewhere) => {
      const seq = document.getElementById('fasta').value || '>s\nACGT';
      const violations = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
      const tries = {};
      try {
        await fetch(`${elsewhere}/upload`, { method: 'POST', body: seq, mode: 'no-cors' });
        tries.fetch = 'sent';
      } catch (e) {
        tries.fetch = `blocked: ${e.message}`;
      }
      tries.beacon = navigator.sendBeacon(`${elsewhere}/beacon`, seq) ? 'queued' : 'refused';
      const img = new Image();
      img.src = `${elsewhere}/pixel.gif?seq=${encodeURIComponent(seq.slice(0, 50))}`;
      await new Promise((r) => setTimeout(r, 1000));
      return { violations, tries };
    }, elsewhere);
    assert.match(got.tries.fetch, /^blocked/);
    assert.ok(got.violations.includes('connect-src'), JSON.stringify(got));
    assert.ok(got.violations.includes('img-src'), JSON.stringify(got));
    assert.equal(hits, 0, 'nothing reached the other origin');
    // Playwright sees the attempts; each one failed inside the browser, blocked by the policy
    const attempts = requests.filter((r) => r.url.startsWith(elsewhere));
    const blocked = failed.filter((f) => f.url.startsWith(elsewhere));
    assert.equal(blocked.length, attempts.length, JSON.stringify({ attempts, blocked }));
    for (const f of blocked) assert.match(f.error, /CSP|blocked|csp/i, JSON.stringify(f));
    // they never left the tab, so the later check of every request's origin skips them
    for (let i = requests.length - 1; i >= 0; i--) if (requests[i].url.startsWith(elsewhere)) requests.splice(i, 1);
  } finally {
    other.close();
  }
});

test('bad input shows readable errors beside their section, naming the file, and loses nothing', async () => {
  await page.fill('#fasta', 'this is not FASTA');
  await page.click('#predict');
  await page.waitForSelector('#error-input:not([hidden])');
  assert.match(await page.textContent('#error-input'), /the sequence box: line 1: expected a FASTA header/);
  // the results of the last run are gone with the input they came from
  assert.equal(await page.isHidden('#results-section'), true);
  // a file's errors name the file
  await page.setInputFiles('#seq-file', { name: 'mine.fa', mimeType: 'text/plain', buffer: Buffer.from('>ok\nACGT\nno header here\n>\n') });
  await page.waitForFunction(() => document.getElementById('fasta').value.startsWith('>ok'));
  await page.click('#predict');
  await page.waitForFunction(() => /mine\.fa/.test(document.getElementById('error-input').textContent));
  // A protein sequence: the page offers its own control, not the CLI's flag.
  await page.fill('#fasta', '>p\nMKVLAAGT\n');
  await page.click('#predict');
  await page.waitForSelector('#error-input button');
  const msg = await page.textContent('#error-input');
  assert.match(msg, /sequence 'p': invalid character 'L' at position 4/);
  assert.doesNotMatch(msg, /--unknown|as-n/);
  await page.click('#error-input button');
  await page.waitForSelector('#results tbody tr');
  assert.equal(await page.isChecked('#unknown-as-n'), true);
  assert.equal(await page.isHidden('#error-input'), true);
  await page.uncheck('#unknown-as-n');
  // A VCF whose contigs are not in the reference.
  await page.setInputFiles('#vcf-file', { name: 'other.vcf', mimeType: 'text/plain',
    buffer: Buffer.from('##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr7\t100\t.\tA\tG\t.\t.\t.\n') });
  await page.click('#score');
  await page.waitForFunction(() => /none of the VCF's contigs/.test(document.getElementById('error-variants').textContent));
  assert.match(await page.textContent('#error-variants'), /\(chr7\) are in the reference genome \(chrA, chrB\)/);
  // A profile model (CI-SpliceAI) loads, but the table cannot show per-base tracks: refused
  // with where to go instead, never a broken table.
  await page.setInputFiles('#model-file', `${ROOT}/examples/models/cispliceai/cispliceai.fp16.onnx`);
  await page.waitForFunction(() => /^cispliceai\.fp16\.onnx: /.test(document.getElementById('model-about').textContent), null, { timeout: 60000 });
  await page.click('#load-sample');
  await page.click('#predict');
  await page.waitForFunction(() => /predicts a profile/.test(document.getElementById('error-input').textContent));
  assert.match(await page.textContent('#error-input'), /use "Splice variants" below/);
  assert.equal(await page.isHidden('#results-section'), true);
  await page.setInputFiles('#model-file', { name: 'demo.onnx', mimeType: 'application/octet-stream', buffer: readFileSync(`${ROOT}/examples/models/demo.onnx`) });
  await page.waitForFunction(() => /^demo\.onnx: /.test(document.getElementById('model-about').textContent), null, { timeout: 60000 });
  // A model that does not load keeps the one that worked, which still predicts.
  await page.setInputFiles('#model-file', { name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model') });
  await page.waitForFunction(() => /could not be loaded/.test(document.getElementById('error-model').textContent));
  assert.match(await page.textContent('#error-model'), /^broken\.onnx could not be loaded: not a valid ONNX model.*\nStill using demo\.onnx\.$/s);
  assert.match(await page.textContent('#model-about'), /^demo\.onnx: /);
  await page.click('#load-sample');
  await page.waitForFunction(() => document.getElementById('fasta').value.startsWith('>ctcf_site'));
  await page.click('#predict');
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 7);
});

test('a long sequence: a warning offers tiling; progress stays in view; the table pages; no long freeze', async () => {
  // 200 kbp of seeded random DNA: one 500-bp window without a stride, 3,991 tiled at 50
  let x = 7;
  const seq = Array.from({ length: 200000 }, () => 'ACGT'[(x = (x * 1103515245 + 12345) % 2147483648) >> 29 & 3]).join('');
  await page.fill('#fasta', `>long\n${seq}\n`);
  await page.fill('#stride', '');
  await page.click('#predict');
  // The last test's warning (2 of the sample's sequences) stays until this run ends: wait
  // for this run's summary before reading it.
  await page.waitForFunction(() => document.getElementById('summary').textContent === '1 sequence × 8 labels.');
  assert.equal(await page.isVisible('#stride-warning'), true);
  assert.match(await page.textContent('#stride-warning'), /1 sequence is longer than the model's 500 bp, so only the central 500 bp of it was predicted/);
  // Long tasks (> 50 ms) on the page's main thread from here on.
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((l) => window.longTasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
    window.scrollTo(0, 0);
  });
  await page.click('#stride-warning button');
  await page.waitForSelector('#busy:not([hidden])');
  assert.equal(await page.inputValue('#stride'), '250');
  // While it runs (read at one moment in the page): the bar is on screen with the page
  // scrolled to its top, and no second run can start.
  const during = await page.evaluate(() => new Promise((ok) => {
    const $ = (id) => document.getElementById(id);
    const t = setInterval(() => {
      if ($('busy').hidden || !/windows, .* per second, about .* left/.test($('busy-rate').textContent)) return;
      clearInterval(t);
      const r = $('busy').getBoundingClientRect();
      ok({ top: r.top, bottom: r.bottom, height: innerHeight, predict: $('predict').disabled, demo: $('run-demo').disabled });
    }, 10);
  }));
  assert.ok(during.top >= 0 && during.bottom <= during.height, JSON.stringify(during));
  assert.equal(during.predict, true);
  assert.equal(during.demo, true);
  await page.waitForSelector('#busy', { state: 'hidden', timeout: 300000 });
  assert.equal(await page.textContent('#summary'), '799 windows from 1 sequence × 8 labels.');
  assert.equal(await page.isHidden('#stride-warning'), true);
  assert.equal((await page.$$('#results tbody tr')).length, 100);
  assert.equal(await page.textContent('#results-pager .page-info'), 'rows 1–100 of 799');
  await page.click('#results-pager .page-next');
  assert.equal(await page.textContent('#results-pager .page-info'), 'rows 101–200 of 799');
  assert.equal(await page.textContent('#results tbody tr:first-child td:first-child'), 'long:25000-25500');
  const longest = await page.evaluate(() => Math.max(0, ...window.longTasks));
  assert.ok(longest < 100, `the main thread was busy for ${longest} ms at once`);
});

test('every control is reached and used from the keyboard', async () => {
  await page.click('#load-sample');
  await page.waitForFunction(() => document.getElementById('fasta').value.startsWith('>ctcf_site'));
  await page.fill('#stride', '');
  await page.focus('#predict');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 7);
  // a sortable header sorts with Enter
  await page.focus('#results th[data-col="2"]');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#results th[data-col="2"]', 'aria-sort'), 'descending');
  const first = await page.textContent('#results tbody tr:first-child td:first-child');
  assert.equal(first, 'spi1_short');
  // a row explains with Enter
  await page.selectOption('#explain-method', 'ixg');
  await page.focus('#results tbody tr:first-child');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /spi1_short/.test(document.querySelector('#logo svg text')?.textContent ?? ''));
  // the file pickers are buttons in the tab order
  for (const id of ['model-choose', 'seq-choose']) {
    assert.equal(await page.evaluate((id) => document.getElementById(id).tabIndex, id), 0);
  }
});

test('at 1280 and 390 px wide, nothing overflows and every picker keeps its label', async () => {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const got = await page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      wide: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className?.baseVal ?? e.className}`).join(', '),
      // a label that wraps has more than one line box
      wrapped: [...document.querySelectorAll('.files label')].filter((l) => l.getClientRects().length > 1 ||
        l.getBoundingClientRect().height > 2.5 * parseFloat(getComputedStyle(l).lineHeight || '20')).map((l) => l.textContent.trim()),
    }));
    assert.equal(got.overflow, 0, `${width} px: the page is ${got.overflow} px wider than the window (${got.wide})`);
    assert.deepEqual(got.wrapped, [], `${width} px`);
    const png = await page.screenshot({ fullPage: true });
    assert.ok(png.length > 20000, `${width} px screenshot is ${png.length} bytes`);
  }
  await page.setViewportSize({ width: 1280, height: 720 });
});

test('axe-core finds no serious or critical accessibility violation, with results and figures shown', async () => {
  // axe is injected as a script, which the page's policy would block: a context that bypasses it
  const ctx = await browser.newContext({ bypassCSP: true });
  try {
    const p = await ctx.newPage();
    await p.goto(`${url}/www/`);
    await p.waitForFunction(() => !document.getElementById('predict').disabled, null, { timeout: 60000 });
    await p.click('#run-demo');
    await p.waitForFunction(() => /SPI1 =/.test(document.getElementById('explain-note').textContent), null, { timeout: 60000 });
    await p.click('#load-sample-variants');
    await p.waitForFunction(() => !document.getElementById('score').disabled);
    await p.click('#score');
    await p.waitForSelector('#variants tbody tr');
    await p.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    const violations = await p.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })));
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
  } finally {
    await ctx.close();
  }
});

test('long work shows progress and can be cancelled; the page stays responsive', async () => {
  const r = await page.evaluate(async () => {
    // Reload the demo model, then start ISM (slow path) on the 1,200-bp sequence.
    const bytes = await (await fetch('../examples/models/demo.onnx')).arrayBuffer();
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'demo.onnx'));
    const input = document.getElementById('model-file');
    input.files = dt.files;
    input.dispatchEvent(new Event('change'));
    await new Promise((ok) => {
      const t = setInterval(() => !document.getElementById('predict').disabled && (clearInterval(t), ok()), 20);
    });
    return true;
  });
  assert.ok(r);
  await page.click('#load-sample');
  await page.click('#predict');
  await page.waitForSelector('#results tbody tr');
  await page.selectOption('#explain-method', 'ism');
  await page.click('#explain');
  await page.waitForSelector('#busy:not([hidden])');
  // The page answers while the worker computes.
  assert.equal(await page.evaluate(() => 1 + 1), 2);
  await page.waitForFunction(() => document.getElementById('progress').value > 0);
  await page.click('#cancel');
  await page.waitForFunction(() => /cancelled/.test(document.getElementById('error-explain').textContent));
  assert.equal(await page.isHidden('#busy'), true);
});

test('choosing WebGPU reloads the model on it, and predictions agree', async () => {
  await page.selectOption('#backend', 'webgpu');
  await page.waitForFunction(() => document.getElementById('model-info').textContent.includes('backend: WebGPU'));
  await page.click('#load-sample');
  await page.waitForFunction(() => document.getElementById('fasta').value.startsWith('>ctcf_site'));
  await withoutRequests('prediction on WebGPU', async () => {
    await page.click('#predict');
    await page.waitForSelector('#results tbody tr');
  });
  const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const golden = readTsv(`${ROOT}/tests/golden/demo_sample.tsv`);
  const byId = new Map(rows.map((r) => [r[0], r]));
  // Three decimals of onnxruntime's values, within one unit of the last place (GPU rounding).
  golden.ids.forEach((id, i) => golden.values[i].forEach((v, j) =>
    assert.ok(Math.abs(Number(byId.get(id)[3 + j]) - v) <= 0.0015, `${id} column ${j}`)));
  await page.selectOption('#backend', 'auto');
  await page.waitForFunction(() => document.getElementById('model-info').textContent.includes('backend: CPU'));
});

test('no request leaves the page origin', async () => {
  assert.ok(requests.length > 0);
  const foreign = requests.map((r) => r.url).filter((r) => !r.startsWith(url) && !r.startsWith('blob:') && !r.startsWith('data:'));
  assert.deepEqual(foreign, []);
});

test('without WebGPU the page shows the CPU fallback and why', async () => {
  const plain = await launchChromium();
  try {
    const { p } = await openPage(plain);
    assert.match(await p.textContent('#model-info'), /backend: CPU .*WebGPU not used: .*WebGPU is not available here/);
    // asking for WebGPU there falls back to the CPU, and says so
    await p.selectOption('#backend', 'webgpu');
    await p.waitForFunction(() => /WebGPU could not run/.test(document.getElementById('error-model').textContent));
    assert.match(await p.textContent('#error-model'), /so it runs on the CPU/);
    assert.equal(await p.inputValue('#backend'), 'cpu');
    await p.click('#load-sample');
    await p.waitForFunction(() => document.getElementById('fasta').value.startsWith('>ctcf_site'));
    await p.click('#predict');
    await p.waitForSelector('#results tbody tr');
    assert.equal((await p.$$('#results tbody tr')).length, 7);
  } finally {
    await plain.close();
  }
});

test('on a host without COOP/COEP the service worker makes the page isolated, with threads', async () => {
  const bare = await serve(0, { isolated: false });
  const b = await launchChromium();
  try {
    const p = await (await b.newContext()).newPage();
    await p.goto(`${bare.url}/www/index.html`);
    assert.equal(await p.evaluate(() => crossOriginIsolated), false);
    await p.waitForFunction(() => !document.getElementById('predict').disabled, null, { timeout: 60000 });
    assert.match(await p.textContent('#model-info'), /one thread: the page is not cross-origin isolated/);
    await p.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await p.reload();
    await p.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });
    assert.equal(await p.evaluate(() => crossOriginIsolated), true);
    await p.waitForFunction(() => !document.getElementById('predict').disabled, null, { timeout: 60000 });
    assert.match(await p.textContent('#model-info'), /WebAssembly SIMD in a worker, \d+ threads\)/);
  } finally {
    await b.close();
    bare.server.close();
  }
});

test('after the first visit the page works offline', async () => {
  // Runs last: it stops the server, so nothing but the service worker's cache can answer.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });
  await new Promise((ok) => {
    server.close(ok);
    server.closeAllConnections();
  });
  server = null;
  await page.reload();
  await page.waitForFunction(() => !document.getElementById('predict').disabled, null, { timeout: 60000 })
    .catch(async (e) => {
      throw new Error(`${e.message}; page says: ${await page.textContent('#model-info')} / ${await page.textContent('#error-model')}`);
    });
  assert.match(await page.textContent('#model-info'), /\d+ threads\)/, 'the threaded build was cached too');
  await page.click('#load-sample');
  await page.waitForFunction(() => document.getElementById('fasta').value.startsWith('>ctcf_site'));
  await page.click('#predict');
  await page.waitForSelector('#results tbody tr');
  assert.equal((await page.$$('#results tbody tr')).length, 7);
  // the splice view too: CI-SpliceAI, the example genome and a typed variant, all cached
  await page.click('#splice-example');
  await page.waitForFunction(() => !document.getElementById('splice-score').disabled && document.getElementById('busy').hidden, null, { timeout: 120000 });
  await page.fill('#splice-typed', 'chr1:9161 G>A');
  await page.fill('#splice-distance', '50');
  await page.click('#splice-score');
  await page.waitForFunction(() => document.querySelectorAll('#splice-table tbody tr').length === 1, null, { timeout: 120000 });
  assert.match(await page.textContent('#splice-table tbody tr'), /chr1:9161 G>A/);
});
