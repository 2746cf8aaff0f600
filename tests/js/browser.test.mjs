// The npm package in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download). The page imports pkg/index.js as an ES module from a
// 127.0.0.1 server, loads the bundled model, predicts the sample FASTA, and the result is
// compared with onnxruntime's (golden) and with the native CLI's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, readTsv, assertMatches, assertVariantsMatchHandBuilt, launchChromium, assertSpliceMatches, spliceGolden, spliceVcf } from './golden.mjs';
import { readFileSync } from 'node:fs';

let browser, server, url, page;

before(async () => {
  ({ server, url } = await serve());
  browser = await launchChromium();
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

test('without WebGPU: auto falls back to the CPU and says why; forcing WebGPU rejects', async () => {
  const got = await page.evaluate(async () => {
    const { Model } = await import('/pkg/index.js');
    const bytes = new Uint8Array(await (await fetch('/examples/models/demo.onnx')).arrayBuffer());
    const model = await Model.load(bytes);
    const report = model.backend;
    model.free();
    let forced;
    try {
      await Model.load(bytes, null, { backend: 'webgpu' });
      forced = 'no error';
    } catch (e) {
      forced = e.message;
    }
    return { report, forced };
  });
  assert.equal(got.report.backend, 'cpu');
  assert.match(got.report.reason, /WebGPU is not available here/);
  assert.match(got.forced, /^cannot run on the GPU: no GPU adapter: WebGPU is not available here/);
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

test('the worker helper predicts, attributes, designs, marginalizes, ablates and scores variants off the main thread, with progress', async () => {
  const got = await page.evaluate(async () => {
    const { SeqlensWorker } = await import('/pkg/index.js');
    const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
    const w = new SeqlensWorker();
    const info = await w.load(await get('/examples/models/demo.onnx'));
    const fasta = await (await fetch('/examples/data/sample.fa')).text();
    const events = { predict: 0, attribute: 0, design: 0, variants: 0 };
    const preds = await w.predict(fasta, { batchSize: 2 }, { onProgress: () => { events.predict += 1; } });
    // The main thread keeps running while the worker computes ISM.
    let ticks = 0;
    const timer = setInterval(() => { ticks += 1; }, 5);
    const attr = await w.attribute([{ id: 's', seq: fasta.split('\n')[1] }],
      { method: 'ism', target: ['CTCF'] }, { onProgress: () => { events.attribute += 1; } });
    clearInterval(timer);
    const designs = await w.design([{ id: 's', seq: fasta.split('\n')[1] }],
      { labels: ['GATA1'], edits: 2, tol: 0 }, { onProgress: () => { events.design += 1; } });
    const seqs = fasta.split('\n').filter((l) => l && !l.startsWith('>')).slice(0, 3);
    const marginal = await w.marginalize(seqs, { motifs: ['GATAAG', 'CCGGAAGT'], spacings: [0, 5] });
    const ablation = await w.ablate([{ id: 's', seq: seqs[0] }], { region: [230, 270], shuffles: 4, seed: 2 });
    // The reference is a File read by slices inside the worker.
    const fa = new File([await get('/examples/data/genome.fa')], 'genome.fa');
    const fai = new File([await get('/examples/data/genome.fa.fai')], 'genome.fa.fai');
    const vcf = new File([await get('/examples/data/variants.vcf')], 'variants.vcf');
    const effects = await w.scoreVariants(vcf, { fasta: fa, fai }, { scores: ['diff'] },
      { onProgress: () => { events.variants += 1; } });
    let mismatch;
    try {
      await w.scoreVariants('##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchrZ\t1\t.\tA\tC\t.\t.\t.\n',
        { fasta: fa, fai });
    } catch (e) {
      mismatch = e.message;
    }
    w.terminate();
    return {
      gradients: info.gradients, backend: preds.backend, ids: preds.ids, values: Array.from(preds.values),
      events, ticks, attr: { length: attr[0].length, isF32: attr[0].map instanceof Float32Array },
      effects, mismatch, designs, marginal, ablation,
    };
  });
  assert.equal(got.gradients, true);
  assert.equal(got.backend, 'cpu');
  assertMatches({ ids: got.ids, labels: readTsv(`${ROOT}/tests/golden/demo_sample.tsv`).labels,
    values: got.values, shape: [got.ids.length, 8] }, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-5, 'onnxruntime');
  assert.ok(got.events.predict >= 3, `predict progress events: ${got.events.predict}`);
  assert.ok(got.events.attribute >= 2, `ISM progress events: ${got.events.attribute}`);
  assert.ok(got.events.variants >= 1);
  assert.ok(got.ticks > 0, 'the page ran timers during ISM');
  assert.deepEqual(got.attr, { length: 500, isF32: true });
  assert.equal(got.effects.variants.length, 6);
  assert.ok(got.events.design >= 2, `design progress events: ${got.events.design}`);
  // Expected values: predictions on windows sliced by hand (Node, same package, tract).
  const { Model } = await import('seqlens');
  const model = await Model.load(readFileSync(`${ROOT}/examples/models/demo.onnx`));
  // The worker's designs are the in-thread call's (tests/design.rs and node.test.mjs check
  // the search against tangermeme).
  const seq = readFileSync(`${ROOT}/examples/data/sample.fa`, 'utf8').split('\n')[1];
  const want = await model.design([{ id: 's', seq }], { labels: ['GATA1'], edits: 2, tol: 0 });
  assert.deepEqual(got.designs.map((d) => d.designs.map((x) => x.sequence)), want.map((d) => d.designs.map((x) => x.sequence)));
  assert.equal(got.designs[0].designs[0].edits.length, 2);
  // Marginalisation and ablation in the worker are the in-thread calls' (node.test.mjs
  // checks them against tangermeme), on the same backend (the CPU here).
  const seqs = readFileSync(`${ROOT}/examples/data/sample.fa`, 'utf8').split('\n').filter((l) => l && !l.startsWith('>')).slice(0, 3);
  const marginal = await model.marginalize(seqs, { motifs: ['GATAAG', 'CCGGAAGT'], spacings: [0, 5] });
  assert.deepEqual(got.marginal.spacings, [[0], [5]]);
  const near = (a, b) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-5);
  assert.ok(near(got.marginal.after, marginal.after) && near(got.marginal.meanEffect, marginal.meanEffect));
  const ablation = await model.ablate([{ id: 's', seq }], { region: [230, 270], shuffles: 4, seed: 2 });
  assert.ok(near(got.ablation.after, ablation.after) && got.ablation.after.length === 4 * 8);
  await assertVariantsMatchHandBuilt(got.effects, model, 1e-5);
  model.free();
  assert.match(got.mismatch, /none of the VCF's contigs \(chrZ\)/);
});

test('cancelling a worker call rejects with AbortError and the next call still works', async () => {
  const got = await page.evaluate(async () => {
    const { SeqlensWorker } = await import('/pkg/index.js');
    const bytes = new Uint8Array(await (await fetch('/examples/models/demo.onnx')).arrayBuffer());
    const fasta = await (await fetch('/examples/data/sample.fa')).text();
    const w = new SeqlensWorker();
    await w.load(bytes);
    const ctl = new AbortController();
    let progressed = 0;
    const started = performance.now();
    let error;
    try {
      await w.attribute(fasta, { method: 'ism' }, {
        signal: ctl.signal,
        onProgress: () => {
          progressed += 1;
          ctl.abort();
        },
      });
    } catch (e) {
      error = e.name;
    }
    const cancelledAfter = performance.now() - started;
    const again = await w.predict(fasta);
    w.terminate();
    return { error, progressed, cancelledAfter, rows: again.shape[0] };
  });
  assert.equal(got.error, 'AbortError');
  assert.ok(got.progressed >= 1);
  assert.equal(got.rows, 7);
});

test('CI-SpliceAI in a worker on a bgzf genome File equals cispliceai', async () => {
  const ids = ['A_donor1_G>', 'A_del_donor2', 'A_ins_ppt4', 'B_donor_minus', 'C_acceptor2_near_start', 'ref_mismatch'];
  const got = await page.evaluate(async (vcf) => {
    const { SeqlensWorker } = await import('/pkg/index.js');
    const file = async (p) => new File([await (await fetch(`/examples/data/splice/${p}`)).arrayBuffer()], p);
    const w = new SeqlensWorker();
    await w.load(new Uint8Array(await (await fetch('/examples/models/cispliceai/cispliceai.onnx')).arrayBuffer()));
    await w.loadGenes(await file('genes.csv'), 'genes.csv');
    let events = 0;
    const r = await w.scoreSplice(vcf, { fasta: await file('genome.fa.gz'), fai: await file('genome.fa.gz.fai'), gzi: await file('genome.fa.gz.gzi') },
      { distance: 50, mask: true }, { onProgress: () => { events++; } });
    w.terminate();
    return { alleles: r.alleles, events, vcf: r.vcf };
  }, spliceVcf(ids));
  assert.ok(got.events > 0);
  assertSpliceMatches(got.alleles, spliceGolden('d50_mask', ids), 'Chromium worker');
  assert.match(got.vcf, /CISpliceAI=ref_mismatch\|/);
});
