// The npm package on WebGPU in headless Chromium. `--enable-unsafe-webgpu` gives Chromium's
// software adapter (SwiftShader), which checks correctness only: nothing here measures speed.
// Expected values: onnxruntime's goldens for the demo model, and for every preset the CPU
// engine's outputs written by the native GPU test (tests/gpu.rs) beside the preset's ONNX file
// in SEQLENS_PRESETS_DIR (scripts/test-all.sh sets it); the same page's CPU backend (tract in
// wasm) is a third implementation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, readTsv, assertMatches, launchChromium } from './golden.mjs';

const PRESETS = ['deepbind', 'basset', 'deepsea', 'bpnet'];
let browser, server, url, page;

before(async () => {
  ({ server, url } = await serve());
  browser = await launchChromium({ webgpu: true });
  page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => m.type() === 'error' && console.error('page console:', m.text()));
  await page.goto(`${url}/tests/js/page.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Loads `bytes` on `backend` in the page, predicts `fasta`, returns the result and report. */
async function predictOn(backend, bytes, fasta, options = {}) {
  return page.evaluate(async ({ backend, bytes, fasta, options }) => {
    const { init, Model } = await import('/pkg/index.js');
    await init();
    const model = await Model.load(new Uint8Array(bytes), null, { backend });
    const r = await model.predict(fasta, options);
    const out = { ids: r.ids, labels: r.labels, shape: r.shape, values: Array.from(r.values),
      backend: r.backend, report: model.backend, info: model.info().backend };
    model.free();
    return out;
  }, { backend, bytes: Array.from(bytes), fasta, options });
}

const demoBytes = readFileSync(`${ROOT}/examples/models/demo.onnx`);
const sampleFa = readFileSync(`${ROOT}/examples/data/sample.fa`, 'utf8');

test('the demo model predicts on WebGPU and matches onnxruntime', async () => {
  const got = await predictOn('webgpu', demoBytes, sampleFa, { batchSize: 3 });
  assert.equal(got.backend, 'webgpu');
  assert.equal(got.report.backend, 'webgpu');
  assert.equal(got.report.reason, undefined);
  assert.ok(got.report.adapter, 'the adapter is named');
  assert.deepEqual(got.info, got.report);
  // The GPU folds batch norm and sums in another order than onnxruntime: 1e-4, not 1e-5.
  assertMatches(got, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-4, 'onnxruntime');
  const rc = await predictOn('webgpu', demoBytes, sampleFa, { rcAverage: true });
  assert.equal(rc.backend, 'webgpu');
  assertMatches(rc, readTsv(`${ROOT}/tests/golden/demo_sample_rc.tsv`), 1e-4, 'onnxruntime (rc-average)');
});

test('auto passes over the software adapter and says why; cpu is honoured', async () => {
  const auto = await predictOn('auto', demoBytes, sampleFa);
  assert.equal(auto.backend, 'cpu');
  assert.match(auto.report.reason, /software renderer/);
  assert.ok(auto.report.adapter, 'the software adapter is still named');
  assertMatches(auto, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-5, 'onnxruntime');
  const cpu = await predictOn('cpu', demoBytes, sampleFa);
  assert.deepEqual(cpu.report, { backend: 'cpu', engine: 'seqlens', reason: 'the CPU was requested' });
});

test('every preset: WebGPU = the CPU engine = tract (wasm), within 1e-4', async (t) => {
  const dir = process.env.SEQLENS_PRESETS_DIR;
  if (!dir) {
    t.skip('SEQLENS_PRESETS_DIR is not set (scripts/test-all.sh sets it after the Rust GPU tests)');
    return;
  }
  for (const name of PRESETS) {
    assert.ok(existsSync(`${dir}/${name}.onnx`), `${dir}/${name}.onnx: run the Rust GPU tests first`);
    const bytes = readFileSync(`${dir}/${name}.onnx`);
    const { fasta, cpu } = JSON.parse(readFileSync(`${dir}/${name}.json`, 'utf8'));
    const gpu = await predictOn('webgpu', bytes, fasta);
    const tract = await predictOn('tract', bytes, fasta);
    assert.equal(gpu.backend, 'webgpu', name);
    const scale = Math.max(1e-3, ...cpu.map(Math.abs));
    cpu.forEach((want, i) => {
      assert.ok(Math.abs(gpu.values[i] - want) <= 1e-4 * scale,
        `${name} value ${i}: WebGPU ${gpu.values[i]} vs CPU engine ${want}`);
      assert.ok(Math.abs(tract.values[i] - want) <= 1e-4 * scale,
        `${name} value ${i}: tract ${tract.values[i]} vs CPU engine ${want}`);
    });
    assert.equal(gpu.values.length, cpu.length, name);
  }
});

test('the worker helper runs on WebGPU inside its worker', async () => {
  const got = await page.evaluate(async () => {
    const { SeqlensWorker } = await import('/pkg/index.js');
    const bytes = new Uint8Array(await (await fetch('/examples/models/demo.onnx')).arrayBuffer());
    const fasta = await (await fetch('/examples/data/sample.fa')).text();
    const w = new SeqlensWorker();
    const info = await w.load(bytes, null, { backend: 'webgpu' });
    const r = await w.predict(fasta);
    w.terminate();
    return { info: info.backend, backend: r.backend, ids: r.ids, labels: r.labels, shape: r.shape,
      values: Array.from(r.values) };
  });
  assert.equal(got.info.backend, 'webgpu');
  assert.equal(got.backend, 'webgpu');
  assertMatches(got, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-4, 'onnxruntime');
});

test('forcing WebGPU on a model outside the GPU op set rejects with the reason', async () => {
  const msg = await page.evaluate(async (bytes) => {
    const { Model } = await import('/pkg/index.js');
    try {
      await Model.load(new Uint8Array(bytes), null, { backend: 'webgpu' });
      return 'no error';
    } catch (e) {
      return `${e.constructor.name}: ${e.message}`;
    }
  }, Array.from(readFileSync(`${ROOT}/examples/models/jaspar_scanner.onnx`)));
  assert.match(msg, /^Error: cannot run on the GPU: the model's graph is not in the engine's op set/);
});

test('gradients, integrated gradients, ISM and variant scoring run on WebGPU and equal the CPU backend', async (t) => {
  // DeepBind at 101 bp keeps ISM (304 windows) quick on a software adapter.
  const dir = process.env.SEQLENS_PRESETS_DIR;
  if (!dir) {
    t.skip('SEQLENS_PRESETS_DIR is not set (scripts/test-all.sh sets it after the Rust GPU tests)');
    return;
  }
  const got = await page.evaluate(async (modelBytes) => {
    const { Model } = await import('/pkg/index.js');
    const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
    const bytes = new Uint8Array(modelBytes);
    const seq = (await (await fetch('/examples/data/sample.fa')).text()).split('\n')[1].slice(0, 101);
    // The reference genome as an in-memory source read by slices.
    const fasta = await get('/examples/data/genome.fa');
    const genome = { fai: await (await fetch('/examples/data/genome.fa.fai')).text(), size: fasta.length,
      read: (offset, length) => fasta.subarray(offset, offset + length) };
    const vcf = await get('/examples/data/variants.vcf');
    const out = {};
    for (const backend of ['webgpu', 'cpu']) {
      const model = await Model.load(bytes, null, { backend });
      let events = 0;
      const [a] = await model.attribute([{ id: 's', seq }], { method: 'ism', target: ['y1'] },
        { onProgress: () => { events += 1; } });
      const fx = await model.scoreVariants(vcf, genome, { scores: ['diff'] });
      const [g] = await model.attribute([{ id: 's', seq }], { method: 'grad', target: ['y1'] });
      const [ig] = await model.attribute([{ id: 's', seq }],
        { method: 'ig', target: ['y1'], baseline: 'shuffle', shuffles: 2, steps: 8 });
      out[backend] = { backend: model.backend.backend, gradients: model.gradientBackend,
        grad: Array.from(g.map), ig: Array.from(ig.map), events, map: Array.from(a.map),
        diffs: fx.variants.map((v) => v.scores[0] ?? []), statuses: fx.variants.map((v) => v.status) };
      model.free();
    }
    return out;
  }, Array.from(readFileSync(`${dir}/deepbind.onnx`)));
  assert.equal(got.webgpu.backend, 'webgpu');
  assert.equal(got.webgpu.gradients, 'gpu');
  assert.match(got.cpu.gradients, /^cpu /);
  assert.ok(got.webgpu.events >= 2, 'ISM reports progress on WebGPU');
  const close = (a, b, what) => {
    assert.equal(a.length, b.length, what);
    const scale = Math.max(1e-3, ...b.map(Math.abs));
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * scale, `${what} ${i}: ${v} vs ${b[i]}`));
  };
  assert.ok(got.cpu.map.some((v) => v !== 0), 'ISM found effects');
  close(got.webgpu.map, got.cpu.map, 'ISM map');
  assert.ok(got.cpu.grad.some((v) => v !== 0), 'the gradient is not all zero');
  close(got.webgpu.grad, got.cpu.grad, 'gradient');
  close(got.webgpu.ig, got.cpu.ig, 'integrated gradients');
  assert.deepEqual(got.webgpu.statuses, got.cpu.statuses);
  assert.ok(got.cpu.statuses.includes('ok'));
  close(got.webgpu.diffs.flat(), got.cpu.diffs.flat(), 'variant diff');
});

test('deeplift-shap runs on WebGPU and equals tangermeme, with each convergence delta', async () => {
  // tests/golden/deeplift.json: tangermeme 1.6 deep_lift_shap (scripts/tangermeme_golden.py)
  // on the same PyTorch model, Basset-like (batch norm, ReLU, three max pools), target y[1],
  // with tangermeme's own shuffled references: the GPU's Rescale and max-pool kernels.
  const golden = JSON.parse(readFileSync(`${ROOT}/tests/golden/deeplift.json`, 'utf8')).models.basset;
  const got = await page.evaluate(async ({ bytes, sequences, refs }) => {
    const { Model } = await import('/pkg/index.js');
    const model = await Model.load(new Uint8Array(bytes), null, { backend: 'webgpu' });
    const records = sequences.map((seq, i) => ({ id: `s${i}`, seq }));
    const references = Object.fromEntries(refs.map((r, i) => [`s${i}`, r]));
    const a = await model.attribute(records, { method: 'deeplift-shap', target: ['y[1]'], references });
    const out = { backend: model.backend.backend, on: model.gradientBackend,
      maps: a.map((x) => Array.from(x.map)), deltas: a.map((x) => x.delta), values: a.map((x) => x.targetValue) };
    model.free();
    return out;
  }, { bytes: Array.from(readFileSync(`${ROOT}/tests/models/deeplift/basset.onnx`)),
    sequences: golden.sequences, refs: golden.references });
  assert.equal(got.backend, 'webgpu');
  assert.equal(got.on, 'gpu', 'DeepLIFT runs where gradients run: on the GPU');
  const want = golden.targets['1'];
  const scale = Math.max(...want.hypothetical.flat().map(Math.abs));
  got.maps.forEach((map, i) => {
    assert.equal(map.length, want.hypothetical[i].length);
    // 1e-4 of the largest value: the GPU's GEMM tiles sum in another order than PyTorch.
    map.forEach((v, j) => assert.ok(Math.abs(v - want.hypothetical[i][j]) <= 1e-4 * scale,
      `s${i} ${j}: ${v} vs ${want.hypothetical[i][j]}`));
    assert.ok(got.deltas[i] < 1e-4, `s${i}: delta ${got.deltas[i]}`);
    assert.ok(Math.abs(got.values[i] - want.f_x[i]) <= 1e-4 * Math.max(1, Math.abs(want.f_x[i])));
  });
});

test('splice scoring on WebGPU equals the native CPU engine (SwiftShader)', async (t) => {
  // A random model of CI-SpliceAI's geometry (tests/common/mod.rs) keeps this quick on a
  // software adapter; the real model's numbers are checked on the CPU in Node and Chromium.
  const dir = process.env.SEQLENS_PRESETS_DIR;
  if (!dir || !existsSync(`${dir}/tiny_splice.json`)) {
    t.skip('SEQLENS_PRESETS_DIR has no tiny_splice fixture (written by tests/gpu.rs; scripts/test-all.sh sets it)');
    return;
  }
  const want = JSON.parse(readFileSync(`${dir}/tiny_splice.json`, 'utf8')).alleles;
  const got = await page.evaluate(async (model) => {
    const { Model, Genes } = await import('/pkg/index.js');
    const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
    const m = await Model.load(new Uint8Array(model), null, { backend: 'webgpu' });
    const genes = await Genes.load(await bytes('/examples/data/splice/genes.csv'), 'genes.csv');
    const fa = await bytes('/examples/data/splice/genome.fa.gz');
    const genome = {
      name: 'genome.fa.gz', size: fa.length,
      fai: await (await fetch('/examples/data/splice/genome.fa.gz.fai')).text(),
      gzi: await bytes('/examples/data/splice/genome.fa.gz.gzi'),
      read: (offset, length) => fa.subarray(offset, offset + length),
    };
    const vcf = await (await fetch('/examples/data/splice/variants.vcf')).text();
    const r = await m.scoreSplice(vcf, genome, genes, { distance: 50, mask: true });
    return { backend: m.backend.backend, alleles: r.alleles };
  }, Array.from(readFileSync(`${dir}/tiny_splice.onnx`)));
  assert.equal(got.backend, 'webgpu');
  assert.equal(got.alleles.length, want.length);
  got.alleles.forEach((a, i) => {
    assert.equal(a.status, want[i].status);
    a.annotations.forEach((x, j) => {
      for (const k of ['ds_ag', 'ds_al', 'ds_dg', 'ds_dl']) {
        assert.ok(Math.abs(x[k] - want[i].annotations[j][k]) <= 1e-4, `${a.id} ${k}: WebGPU ${x[k]} vs CPU ${want[i].annotations[j][k]}`);
      }
    });
  });
});
