// The npm package as a Node user would import it: `import ... from 'seqlens'` resolves through
// package.json "exports" (the "node" condition) to the built pkg/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { init, Model, oneHot, reverseComplement, parseFasta, parseVcf, callSeqlets, annotateSeqlets, discoverMotifs, patternSvg } from 'seqlens';
import { ROOT, readTsv, assertMatches, assertVariantsMatchHandBuilt } from './golden.mjs';

const modelBytes = readFileSync(`${ROOT}/examples/models/demo.onnx`);
const sampleFa = readFileSync(`${ROOT}/examples/data/sample.fa`, 'utf8');

test('init() loads the wasm from disk with no argument', async () => {
  await init();
  await init(); // idempotent
});

test('predictions match onnxruntime (golden, 1e-5)', async () => {
  const model = await Model.load(modelBytes);
  const got = await model.predict(sampleFa);
  assert.ok(got.values instanceof Float32Array);
  assert.equal(got.backend, 'cpu');
  assertMatches(got, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-5, 'onnxruntime');
  const rc = await model.predict(sampleFa, { rcAverage: true });
  assertMatches(rc, readTsv(`${ROOT}/tests/golden/demo_sample_rc.tsv`), 1e-5, 'onnxruntime (rc-average)');
  const gz = await model.predict(gzipSync(Buffer.from(sampleFa)));
  assert.deepEqual(gz.values, got.values);
  model.free();
});

test('Node has no WebGPU: the CPU runs the model and the report says why', async () => {
  const model = await Model.load(modelBytes);
  assert.equal(model.backend.backend, 'cpu');
  assert.match(model.backend.reason, /WebGPU is not available here/);
  assert.deepEqual(model.info().backend, model.backend);
  model.free();
  await assert.rejects(Model.load(modelBytes, null, { backend: 'webgpu' }), /cannot run on the GPU/);
  await assert.rejects(Model.load(modelBytes, null, { backend: 'tpu' }), /unknown backend 'tpu'; expected auto, gpu \(webgpu\), cpu or tract/);
});

test('info reports metadata, ops and parameters', async () => {
  const model = await Model.load(modelBytes.buffer.slice(modelBytes.byteOffset, modelBytes.byteOffset + modelBytes.byteLength));
  const info = model.info();
  assert.equal(info.metadata.length, 500);
  assert.equal(info.metadata.alphabet, 'dna');
  assert.deepEqual(info.metadata.labels.slice(0, 2), ['CTCF', 'GATA1']);
  assert.equal(info.ops.Conv, 2);
  // conv 128x4x19 + 128, conv 64x128x5 + 64, dense 64x8 + 8 (examples/models/demo.toml)
  assert.equal(info.parameters, 51400);
});

test('sequences as strings and {id, seq} objects', async () => {
  const model = await Model.load(modelBytes);
  const recs = parseFasta(sampleFa);
  const got = await model.predict(recs.map((r) => ({ id: r.id, seq: r.seq })));
  assertMatches(got, readTsv(`${ROOT}/tests/golden/demo_sample.tsv`), 1e-5, 'onnxruntime');
  const plain = await model.predict([recs[0].seq]);
  assert.deepEqual(plain.ids, ['seq1']);
});

test('encode helpers: hand-computed values', async () => {
  assert.deepEqual(Array.from(oneHot('ACGTN')), [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(oneHot('N', { nPolicy: 'uniform' })), [0.25, 0.25, 0.25, 0.25]);
  assert.equal(reverseComplement('ACGTRn'), 'nYACGT');
  assert.equal(reverseComplement('ACGU', 'rna'), 'ACGU');
  const v = parseVcf(readFileSync(`${ROOT}/examples/data/variants.vcf`));
  assert.equal(v.length, 5);
  assert.deepEqual(v[4].alts, ['A', 'G']);
});

test('bad input throws Errors with actionable messages', async () => {
  await assert.rejects(Model.load(modelBytes.subarray(0, 300)), (e) => e instanceof Error && /not a valid ONNX model/.test(e.message));
  await assert.rejects(Model.load(new TextEncoder().encode('hello')), (e) => e instanceof Error && /ONNX/.test(e.message));
  await assert.rejects(Model.load('nope'), TypeError);
  const model = await Model.load(modelBytes);
  await assert.rejects(model.predict('chr1\t1\t2\n'), /expected a FASTA header/);
  await assert.rejects(model.predict('>s\nACGTXQ\n'), /sequence 's': invalid character 'X' at position 5/);
  const lenient = await model.predict('>s\nACGTXQ\n', { unknown: 'as-n' });
  assert.equal(lenient.shape[0], 1);
  assert.throws(() => oneHot('AC-GT'), /position 3/);
  assert.throws(() => reverseComplement('MKV', 'protein'), /not defined for the protein alphabet/);
  assert.throws(() => parseVcf('>chr1\nACGT\n', 'x.vcf'), /x.vcf: line 1: expected a VCF header/);
  await assert.rejects(model.predict(sampleFa, { batchSize: 'many' }), /invalid predict options/);
  // An option the package does not know, or one the chosen method would ignore, is refused by
  // name instead of ignored.
  await assert.rejects(model.predict(sampleFa, { rcAvg: true }), /unknown key 'rcAvg' in the predict options; expected one of .*rcAverage/);
  const one = [{ id: 's', seq: 'ACGT'.repeat(125) }];
  await assert.rejects(model.attribute(one, { methd: 'ig' }), /unknown key 'methd' in the attribute options/);
  await assert.rejects(model.attribute(one, { method: 'ixg', shuffles: 3 }), /method 'ixg' takes no baseline or references: 'shuffles' would be ignored/);
  await assert.rejects(model.attribute(one, { method: 'ism', references: { s: ['A'] } }), /method 'ism' takes no baseline or references: 'references'/);
  await assert.rejects(model.attribute(one, { method: 'deeplift-shap', references: { s: ['A'] }, seed: 1 }), /'seed' cannot be given with them/);
  await assert.rejects(model.attribute(one, { method: 'grad', steps: 10 }), /'steps' is for integrated gradients/);
  assert.throws(() => oneHot('ACGT', { alphabt: 'dna' }), /unknown key 'alphabt' in the oneHot options/);
});

test('attribution: ISM equals predicting mutants; fast ISM equals ISM; logos render', async () => {
  const { logoSvg, heatmapSvg } = await import('seqlens');
  const model = await Model.load(modelBytes);
  assert.equal(model.info().gradients, true);
  // Gradients run on WebGPU where the model runs there (its gradient kernels cover the demo
  // model), else on the CPU engine; the report says so (the same report as `seqlens info`).
  const { backends, methods } = model.info().capabilities;
  assert.deepEqual(backends.map((c) => [c.name, c.available]),
    [['tract', true], ['cpu', true], ['gpu', true]]);
  assert.deepEqual(methods.find((c) => c.name === 'grad'), {
    name: 'grad', available: true, runsOn: 'gpu or cpu (the seqlens engine)',
  });
  assert.match(model.gradientBackend, /^cpu \(the model runs on the CPU\)$/);
  assert.equal(methods.find((c) => c.name === 'fast-ism').runsOn, 'the seqlens engine');
  // spi1_short, N-padded to 500 by the model.
  const rec = parseFasta(sampleFa).find((r) => r.id === 'spi1_short');
  let calls = 0;
  const [ism] = await model.attribute([rec], { method: 'ism', target: ['SPI1'] }, {
    onProgress: () => {
      calls += 1;
    },
  });
  assert.ok(calls > 1, 'ISM reports progress');
  const [fast] = await model.attribute([rec], { method: 'fast-ism', target: ['SPI1'] });
  assert.equal(ism.map.length, 4 * 500);
  for (let i = 0; i < ism.map.length; i++) assert.ok(Math.abs(ism.map[i] - fast.map[i]) <= 1e-5);
  // Independent check of a few substitutions: predict the mutant directly (SPI1 is label 2).
  const seq = ism.sequence;
  const base = (await model.predict([seq])).values[2];
  for (const t of [10, 125, 126, 300]) {
    for (const [c, b] of [...'ACGT'].entries()) {
      if (seq[t] === b) continue;
      const m = seq.slice(0, t) + b + seq.slice(t + 1);
      const want = (await model.predict([m])).values[2] - base;
      assert.ok(Math.abs(ism.map[c * 500 + t] - want) <= 1e-5, `${t}${b}`);
    }
  }
  const [ig] = await model.attribute([rec], { method: 'ig', steps: 8, baseline: 'zeros', target: ['SPI1'] });
  assert.equal(ig.perBase.length, 500);
  const logo = logoSvg(ig.map, 'ACGT', { start: 100, end: 150 });
  assert.match(logo, /^<svg/);
  assert.ok((logo.match(/<path/g) ?? []).length > 20);
  assert.match(heatmapSvg(fast.map, seq, 'ACGT'), /<rect x/);
  assert.throws(() => logoSvg(new Float32Array(7), 'ACGT'), /does not split into 4 channels/);
  await assert.rejects(model.attribute([rec], { method: 'nope' }), /unknown attribution method 'nope'/);
  model.free();
});

test('variant scores from a reference read by slices equal hand-built windows', async () => {
  const { fsGenome } = await import('seqlens');
  const model = await Model.load(modelBytes);
  const genome = fsGenome(`${ROOT}/examples/data/genome.fa`);
  let reads = 0;
  const counted = { ...genome, read: (o, n) => { reads += 1; return genome.read(o, n); } };
  const vcf = readFileSync(`${ROOT}/examples/data/variants.vcf`);
  const effects = await model.scoreVariants(vcf, counted, { scores: ['diff', 'log2_fc'] });
  assert.deepEqual(effects.scores, ['diff', 'log2_fc']);
  assert.equal(effects.variants.length, 6);
  assert.ok(reads > 0);
  await assertVariantsMatchHandBuilt(effects, model, 1e-5);
  // A mismatching REF is reported with the genome's base; unknown contigs alone are an error.
  const head = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';
  const bad = await model.scoreVariants(`${head}chrA\t2006\tx\tG\tA\t.\t.\t.\n`, genome);
  assert.equal(bad.variants[0].status, 'ref_mismatch');
  assert.equal(bad.variants[0].detail, 'C');
  await assert.rejects(model.scoreVariants(`${head}chr9\t5\t.\tA\tC\t.\t.\t.\n`, genome),
    /none of the VCF's contigs \(chr9\) are in the reference genome/);
  genome.close();
  model.free();
});

test('variant windows say where each allele is; ref and alt logos share a y range and mark it', async () => {
  const { fsGenome, logoSvg, logoRange } = await import('seqlens');
  const model = await Model.load(modelBytes);
  const genome = fsGenome(`${ROOT}/examples/data/genome.fa`);
  const effects = await model.scoreVariants(readFileSync(`${ROOT}/examples/data/variants.vcf`), genome, { includeSequences: true });
  genome.close();
  for (const v of effects.variants.filter((x) => x.status === 'ok')) {
    const [r, a] = v.allele_at;
    // the alleles as the VCF writes them, found where the windows say
    assert.equal(v.windows[0].slice(r, r + v.ref.length).toUpperCase(), v.ref.toUpperCase(), `${v.pos} ref`);
    assert.equal(v.windows[1].slice(a, a + v.alt.length).toUpperCase(), v.alt.toUpperCase(), `${v.pos} alt`);
  }
  // By hand: [channels 4, length 2]; position 0 stacks +3 (A 2, C 1), position 1 has G -1.5
  // and T +0.5, so the logo needs [-1.5, 3]; from position 1 on, [-1.5, 0.5].
  const map = Float32Array.from([2, 0, 1, 0, 0, -1.5, 0, 0.5]);
  assert.deepEqual(logoRange(map, 'ACGT', {}), [-1.5, 3]);
  assert.deepEqual(logoRange(map, 'ACGT', { start: 1 }), [-1.5, 0.5]);
  const svg = logoSvg(map, 'ACGT', { yRange: [-3, 6], marks: [1] });
  assert.match(svg, />6\.000<\/text>/);
  assert.equal(svg.match(/class="mark"/g).length, 1);
  // a range that leaves out the axis is refused, naming the option
  assert.throws(() => logoSvg(map, 'ACGT', { yRange: [1, 2] }), /options\.yRange \[1, 2\]: expected \[lowest, highest\]/);
  model.free();
});

test("formatPredictions writes the CLI's table byte for byte; variant scores carry the CLI's TSV", async () => {
  const { formatPredictions, fsGenome } = await import('seqlens');
  // By hand: f32 values print as the shortest text that reads back (1/3 -> 0.33333334).
  const tiny = { ids: ['a'], labels: ['x', 'y'], shape: [1, 2], windows: [{ id: 'a', chrom: 'a', start: 0, end: 3 }], values: Float32Array.from([0.1, 1 / 3]) };
  assert.equal(formatPredictions(tiny), 'id\tchrom\tstart\tend\tx\ty\na\ta\t0\t3\t0.1\t0.33333334\n');
  assert.deepEqual(JSON.parse(formatPredictions(tiny, 'json')), { labels: ['x', 'y'], rows: [{ id: 'a', chrom: 'a', start: 0, end: 3, values: [0.1, 0.33333334] }] });
  assert.throws(() => formatPredictions(tiny, 'csv'), /unknown format 'csv'; expected tsv or json/);
  assert.throws(() => formatPredictions({ ...tiny, shape: [2, 2] }), /shape \[2, 2\] does not fit 1 windows/);
  // The sample's table: the CLI's columns and rows (its numbers within 1e-5: another engine build)
  const model = await Model.load(modelBytes);
  const p = await model.predict(sampleFa);
  const tsv = formatPredictions(p).trimEnd().split('\n').map((l) => l.split('\t'));
  const cli = readFileSync(process.env.SEQLENS_NATIVE_TSV, 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(tsv[0], cli[0]);
  assert.deepEqual(tsv.map((r) => r.slice(0, 4)), cli.map((r) => r.slice(0, 4)));
  tsv.slice(1).forEach((r, i) => r.slice(4).forEach((v, j) => assert.ok(Math.abs(Number(v) - Number(cli[i + 1][4 + j])) <= 1e-5)));
  // every value reads back to the f32 it was
  tsv.slice(1).forEach((r, i) => r.slice(4).forEach((v, j) => assert.equal(Math.fround(Number(v)), p.values[i * 8 + j])));
  const genome = fsGenome(`${ROOT}/examples/data/genome.fa`);
  const fx = await model.scoreVariants(readFileSync(`${ROOT}/examples/data/variants.vcf`), genome, { scores: ['diff'] });
  genome.close();
  const lines = fx.tsv.trimEnd().split('\n');
  assert.equal(lines[0].split('\t').slice(0, 9).join(' '), 'chrom pos id ref alt status CTCF:ref CTCF:alt CTCF:diff');
  assert.equal(lines.length, 1 + fx.variants.length);
  assert.equal(lines[3].split('\t').slice(0, 6).join(' '), 'chrA 9010 spi1_ins G GGGAA ok');
  model.free();
});

test('a dynamo export with external data loads with its file passed as bytes, and equals onnxruntime', async () => {
  // scripts/make_exporter_models.py: torch.onnx.export's default (dynamo) writes the weights
  // to deepbind_dynamo_external.onnx.data; onnxruntime's outputs are in the golden file
  const dir = `${ROOT}/tests/models/exporters`;
  const g = JSON.parse(readFileSync(`${ROOT}/tests/golden/exporters.json`, 'utf8'));
  const bytes = readFileSync(`${dir}/deepbind_dynamo_external.onnx`);
  await assert.rejects(Model.load(bytes), /external data files \(deepbind_dynamo_external\.onnx\.data\).*externalData/);
  await assert.rejects(Model.load(bytes, null, { externalData: { 'other.data': new Uint8Array(4) } }),
    /externalData has no file named 'deepbind_dynamo_external\.onnx\.data'/);
  const model = await Model.load(bytes, null, {
    backend: 'cpu',
    externalData: { 'deepbind_dynamo_external.onnx.data': readFileSync(`${dir}/deepbind_dynamo_external.onnx.data`) },
  });
  assert.equal(model.backend.engine, 'seqlens');
  const p = await model.predict(g.sequences.map((seq, i) => ({ id: `s${i}`, seq })));
  const want = g.models.deepbind_dynamo_external.outputs.flat();
  assert.equal(p.values.length, want.length);
  p.values.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `${i}: ${v} vs ${want[i]}`));
});

test('recurrent (DanQ, a bidirectional GRU), two-head (BPNet-like) and channels-last exports run in the package on the engine and on tract, equal onnxruntime, and have torch\'s gradients', async () => {
  // scripts/make_exporter_models.py: onnxruntime's outputs and torch autograd's input
  // gradients of y[0] (BPNet: counts[0]); the GPU has no recurrent kernel and says so,
  // naming the node
  const dir = `${ROOT}/tests/models/exporters`;
  const g = JSON.parse(readFileSync(`${ROOT}/tests/golden/exporters.json`, 'utf8'));
  const recs = g.sequences.map((seq, i) => ({ id: `s${i}`, seq }));
  for (const name of ['danq_legacy', 'danq_dynamo', 'dangru_legacy', 'dangru_dynamo', 'bpnet_dynamo', 'keras_legacy']) {
    const bytes = readFileSync(`${dir}/${name}.onnx`);
    const want = g.models[name].outputs.flat();
    for (const backend of ['cpu', 'tract']) {
      const model = await Model.load(bytes, null, { backend });
      assert.equal(model.backend.engine, backend === 'cpu' ? 'seqlens' : 'tract', name);
      const p = await model.predict(recs);
      p.values.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `${name} on ${backend} ${i}: ${v} vs ${want[i]}`));
      const gpu = model.info().capabilities.backends.find((c) => c.name === 'gpu');
      if (name.startsWith('dan')) {
        assert.equal(gpu.available, false);
        assert.match(gpu.reason, /\((LSTM|GRU)\) has no GPU kernel yet/);
      }
      const [grad] = await model.attribute([recs[0]], { method: 'grad', target: [g.models[name].target] });
      const wantGrad = g.models[name].gradients_y0[0];
      // within 0.1% of the largest gradient (they are ~1e-3 behind a sigmoid)
      const scale = Math.max(...wantGrad.map(Math.abs));
      grad.map.forEach((v, i) => assert.ok(Math.abs(v - wantGrad[i]) <= 1e-3 * scale, `${name} gradient ${i}: ${v} vs ${wantGrad[i]}`));
      model.free();
    }
  }
});

test('deeplift-shap with given references equals tangermeme, with each convergence delta', async () => {
  // tests/golden/deeplift.json: tangermeme 1.6 deep_lift_shap on the same PyTorch model
  // (scripts/tangermeme_golden.py), Basset-like, target y[1], with tangermeme's own shuffles.
  const golden = JSON.parse(readFileSync(`${ROOT}/tests/golden/deeplift.json`, 'utf8')).models.basset;
  const model = await Model.load(readFileSync(`${ROOT}/tests/models/deeplift/basset.onnx`));
  assert.equal(model.info().capabilities.methods.find((c) => c.name === 'deeplift-shap').available, true);
  const records = golden.sequences.map((seq, i) => ({ id: `s${i}`, seq }));
  const references = Object.fromEntries(golden.references.map((r, i) => [`s${i}`, r]));
  const got = await model.attribute(records, { method: 'deeplift-shap', target: ['y[1]'], references });
  const want = golden.targets['1'];
  const scale = Math.max(...want.hypothetical.flat().map(Math.abs));
  got.forEach((a, i) => {
    assert.equal(a.map.length, want.hypothetical[i].length);
    a.map.forEach((v, j) => assert.ok(Math.abs(v - want.hypothetical[i][j]) <= 1e-5 * scale, `${a.id} ${j}`));
    assert.ok(a.delta < 1e-4, `${a.id}: delta ${a.delta}`);
    assert.ok(Math.abs(a.targetValue - want.f_x[i]) <= 1e-5);
  });
  // Shuffled references by default (20, seeded): the same numbers twice.
  const [a] = await model.attribute([records[0]], { method: 'deeplift-shap', target: ['y[1]'] });
  const [b] = await model.attribute([records[0]], { method: 'deeplift-shap', target: ['y[1]'] });
  assert.deepEqual(a.map, b.map);
  await assert.rejects(model.attribute(records, { method: 'deeplift-shap', references: { other: ['A'] } }),
    /no reference sequence is given for 's0'/);
  model.free();
});

test('design equals tangermeme greedy_substitution and beam_substitution; its predictions are predict()\'s', async () => {
  // tests/golden/design.json (scripts/design_golden.py): tangermeme 1.6 on the same PyTorch
  // models, from the same sequences.
  const golden = JSON.parse(readFileSync(`${ROOT}/tests/golden/design.json`, 'utf8'));
  for (const c of golden.cases) {
    const model = await Model.load(readFileSync(`${ROOT}/tests/models/deeplift/${c.model}`));
    const options = {
      labels: c.mask.flatMap((m, i) => (m ? [`y[${i}]`] : [])),
      goal: c.y ?? 'max',
      edits: c.edits,
      beam: c.beam ?? 1,
      keep: c.n_best,
      tol: c.tol,
      ...(c.region ? { region: c.region } : {}),
    };
    for (const scoring of ['fast', 'ism']) {
      const seen = [];
      const [d] = await model.design([{ id: 's0', seq: c.sequence }], { ...options, scoring },
        { onProgress: (done, total) => { seen.push([done, total]); } });
      assert.deepEqual(d.designs.map((x) => x.sequence), c.designed, `${c.model} ${scoring}`);
      assert.equal(d.scoring, scoring === 'fast' ? 'fast ISM' : 'ISM');
      d.designs.forEach((x, i) => {
        x.prediction.forEach((v, j) => assert.ok(Math.abs(v - c.after[i][j]) < 1e-4));
        assert.ok(Math.abs(x.loss - c.loss[i]) < 1e-4);
      });
      assert.ok(seen.length >= d.rounds && seen.at(-1)[0] <= seen.at(-1)[1]);
    }
    const preds = await model.predict(c.designed.map((seq, i) => ({ id: `d${i}`, seq })));
    const [d] = await model.design([{ id: 's0', seq: c.sequence }], options);
    d.designs.forEach((x, i) => assert.deepEqual(x.prediction, Array.from(preds.values.slice(i * 2, i * 2 + 2))));
    model.free();
  }
  const model = await Model.load(modelBytes);
  await assert.rejects(model.design(sampleFa, { edit: 3 }), /unknown key 'edit' in the design options; expected one of labels, goal, edits/);
  await assert.rejects(model.design(sampleFa, { goal: 'maxx' }), /goal 'maxx': 'maxx' is not a number/);
  await assert.rejects(model.design(sampleFa, { scoring: 'quick' }), /scoring 'quick': expected auto, fast/);
  await assert.rejects(model.design(sampleFa, { labels: ['XYZ'] }), /unknown label 'XYZ'; the model has: CTCF/);
  await assert.rejects(model.design(sampleFa, { keep: 2 }), /sequence 'ctcf_site': design keeps 2 of a beam of 1/);
  await assert.rejects(model.design(sampleFa, { edits: 1 }, { onProgress: () => false }), /cancelled/);
  model.free();
});

test('marginalize and space equal tangermeme; ablate shuffles a region away', async () => {
  // tests/golden/perturb.json: tangermeme 1.6 marginalize and space on the Basset-like
  // PyTorch model exported to ONNX, the same backgrounds (scripts/tangermeme_golden.py).
  const golden = JSON.parse(readFileSync(`${ROOT}/tests/golden/perturb.json`, 'utf8'));
  const basset = await Model.load(readFileSync(`${ROOT}/tests/models/deeplift/basset.onnx`));
  const backgrounds = golden.backgrounds.map((seq, i) => ({ id: `bg${i}`, seq }));
  for (const c of golden.cases) {
    const options = { motifs: c.motifs, ...(c.start === null ? {} : { start: c.start }) };
    if (c.motifs.length > 1) options.spacings = c.spacing.map((gaps) => gaps[0]);
    const got = await basset.marginalize(backgrounds, options);
    const what = JSON.stringify(options);
    assert.deepEqual(got.spacings, c.spacing, what);
    const close = (a, b) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-4);
    assert.ok(close(got.before, c.before.flat()), what);
    assert.ok(close(got.after, c.after.flat(2)), what);
    const k = got.labels.length;
    // The mean effect by hand from those predictions.
    got.meanEffect.forEach((m, j) => {
      const want = got.ids.reduce((acc, _, b) => acc + got.after[b * got.meanEffect.length + j] - got.before[b * k + (j % k)], 0) / got.ids.length;
      assert.ok(Math.abs(m - want) < 1e-6, what);
    });
  }
  await assert.rejects(basset.marginalize(backgrounds, { motifs: ['ACGT', 'GG'] }), /2 motifs need the spacings to try between them/);
  await assert.rejects(basset.marginalize(backgrounds, { motifs: ['ACGT'], seed: 3 }), /'seed' seeds the background shuffles: give 'shuffles' too/);
  const shuffled = await basset.marginalize(backgrounds.slice(0, 2), { motifs: ['TGACTCA'], shuffles: 3, seed: 1 });
  assert.deepEqual(shuffled.ids, ['bg0/shuffle1', 'bg0/shuffle2', 'bg0/shuffle3', 'bg1/shuffle1', 'bg1/shuffle2', 'bg1/shuffle3']);
  basset.free();
  // Shuffling the CTCF motif planted at 240 in ctcf_site (scripts/make_sample_data.py)
  // removes the demo model's CTCF signal; a region of one repeated base shuffles to itself.
  const model = await Model.load(modelBytes);
  const ctcf = parseFasta(sampleFa).find((r) => r.id === 'ctcf_site');
  const a = await model.ablate([ctcf], { region: [230, 270], shuffles: 5 });
  const c = a.labels.indexOf('CTCF');
  assert.equal(a.after.length, 5 * a.labels.length);
  assert.ok(a.before[c] > 0.1 && a.meanEffect[c] < -0.9 * a.before[c], JSON.stringify(a));
  const same = await model.ablate([{ id: 'a', seq: 'A'.repeat(500) }], { region: [10, 60], shuffles: 2, dinucleotide: true });
  assert.ok(same.meanEffect.every((m) => m === 0), JSON.stringify(same.meanEffect));
  await assert.rejects(model.ablate([ctcf], {}), /ablate needs 'region'/);
  await assert.rejects(model.ablate([ctcf], { region: [490, 510] }), /'ctcf_site': region 490-510 is not inside the window's 500 bases/);
  model.free();
});

test('callSeqlets equals tangermeme recursive_seqlets, from attribute() results too', async () => {
  // tests/golden/seqlets.json: tangermeme 1.6 on 12 planted tracks (scripts/seqlets_golden.py).
  const golden = JSON.parse(readFileSync(`${ROOT}/tests/golden/seqlets.json`, 'utf8'));
  const tracks = golden.tracks.map((t, i) => ({ id: `t${i}`, perBase: Float32Array.from(t) }));
  const key = (s) => `${s.id}:${s.start}-${s.end}`;
  for (const [name, kw] of [['defaults', {}], ['custom', { threshold: 0.05, minLen: 6, maxLen: 15, bins: 500, flank: 3 }]]) {
    const got = callSeqlets(tracks, kw);
    const want = golden.cases[name].seqlets.map(([i, start, end, attribution, p]) => ({ id: `t${i}`, start, end, attribution, p }));
    assert.deepEqual(got.map(key).sort(), want.map(key).sort(), name);
    const byKey = new Map(got.map((s) => [key(s), s]));
    for (const w of want) assert.ok(Math.abs(byKey.get(key(w)).pValue - w.p) <= 1e-9 * w.p, `${name} ${key(w)}`);
  }
  assert.throws(() => callSeqlets(tracks, { minLength: 3 }), /unknown key 'minLength' in the seqlet options; expected one of threshold, minLen/);
  assert.throws(() => callSeqlets([{ id: 'x', perBase: 'ACGT' }]), /attribution 0: perBase must be a Float32Array/);
  // Straight from attribute(): DeepLIFT/SHAP of the demo model's CTCF site finds a seqlet
  // over the site's planted CTCF motif, in the sequence's coordinates with its bases.
  const model = await Model.load(modelBytes);
  const ctcf = parseFasta(sampleFa).find((r) => r.id === 'ctcf_site');
  const attrs = await model.attribute([ctcf], { method: 'deeplift-shap', target: ['CTCF'] });
  const [top] = callSeqlets(attrs);
  assert.equal(top.id, 'ctcf_site');
  assert.equal(top.sequence, ctcf.seq.slice(top.start, top.end));
  assert.ok(top.attribution > 0 && top.pValue < 1e-6, JSON.stringify(top));
  // scripts/make_sample_data.py plants MA0139 (19 bp) at 240.
  assert.ok(top.start < 259 && top.end > 240, JSON.stringify(top));
  model.free();
});


test('discoverMotifs finds and names the motifs the demo model learned, from attribute() results, with progress and cancel', async () => {
  // As tests/cli.rs' motif test: DeepLIFT/SHAP of the demo model (every label) on 150
  // training sequences, then discovery with smaller metacluster and pattern minimums. The
  // pipeline is the one tests/motif.rs holds to modisco-lite 3.0.0; the names are JASPAR's.
  const model = await Model.load(modelBytes);
  const labels = model.info().metadata.labels;
  const fasta = readFileSync(`${ROOT}/examples/data/train/motifs.fa`, 'utf8').split('\n').slice(0, 300).join('\n');
  const attrs = await model.attribute(parseFasta(fasta), { method: 'deeplift-shap', target: labels, shuffles: 5 });
  model.free();
  const options = { metaclusters: { minSize: 30 }, collapse: { finalMinClusterSize: 10 }, top: 1 };
  const stages = [];
  const found = discoverMotifs(attrs, options, { onProgress: (done, total, stage) => { stages.push([done, total, stage]); } });
  assert.deepEqual(stages.map(([done]) => done), [...Array(11).keys()]);
  assert.ok(stages.every(([, total]) => total === 11));
  assert.equal(stages[0][2], 'seqlets');
  assert.match(stages[10][2], /^negative metacluster: merging \d+ patterns$/);
  assert.ok(found.seqlets > 100 && found.metaclusterSizes[0] > 30, JSON.stringify(found.metaclusterSizes));
  const named = found.patterns.filter((p) => p.name.startsWith('pos_')).map((p) => p.matches[0]?.name);
  // The model learned these (FOXA1 and GATA1 it did not: see the README).
  for (const want of [['Spi1'], ['CTCF'], ['HNF4A', 'HNF4G'], ['CEBPE', 'CEBPB'], ['TP53'], ['REST']]) {
    assert.ok(named.some((n) => want.includes(n)), `${want} not among ${named}`);
  }
  for (const p of found.patterns) {
    assert.ok(p.seqlets >= 10 && p.positions.length === p.seqlets, p.name);
    assert.equal(p.sequence.length, p.contrib.length);
    assert.ok(p.trimmed[0] < p.trimmed[1] && p.trimmed[1] <= p.sequence.length, p.name);
    for (const [i, start, end] of p.positions) assert.ok(i < attrs.length && start < end && end <= attrs[i].length, p.name);
  }
  // The figure: the pattern's contributions above its match's logo, titled with both.
  const ctcf = found.patterns.find((p) => p.matches[0]?.name === 'CTCF');
  const svg = patternSvg(ctcf, { palette: 'colorblind' });
  assert.ok(svg.startsWith('<svg') && svg.includes(`${ctcf.name} (${ctcf.seqlets} seqlets)`) && svg.includes(`${ctcf.matches[0].id} CTCF`), svg.slice(0, 300));
  assert.throws(() => patternSvg(ctcf, { start: 3 }), /option 'start' does not apply to a pattern figure/);
  // Cancel between stages; refusals name what is wrong.
  assert.throws(() => discoverMotifs(attrs, options, { onProgress: (done) => done < 1 }), /motif discovery cancelled at positive metacluster, round 1: similarities of \d+ seqlets/);
  assert.throws(() => discoverMotifs(attrs, { seqlets: { windw: 15 } }), /unknown field `windw`/);
  assert.throws(() => discoverMotifs(attrs, { topp: 1 }), /unknown key 'topp' in the discovery options/);
  const ism = attrs.slice(0, 2).map((a) => ({ ...a, map: a.map.map((v, k) => (k % 3 === 0 ? v + 1 : v)) }));
  assert.throws(() => discoverMotifs(ism), /motif discovery needs hypothetical contributions/);
  assert.throws(() => discoverMotifs([{ sequence: 'ACGT', perBase: [1, 2, 3, 4], map: [1, 2] }]), /attribution 0 \('#0'\): expected a sequence of 4 bases and a map of 4 x 4/);
});

test('annotateSeqlets names the motifs tangermeme annotate_seqlets names, with memelite p-values', () => {
  // tests/golden/tomtom.json.gz: memelite 0.5 / tangermeme 1.6 on the bundled JASPAR 2024
  // (scripts/tomtom_golden.py).
  const golden = JSON.parse(gunzipSync(readFileSync(`${ROOT}/tests/golden/tomtom.json.gz`)).toString('utf8'));
  const seqlets = golden.queries.filter((q) => q.annotate).map((q) => ({ id: q.id, sequence: q.bases, start: 0, end: q.bases.length }));
  const got = annotateSeqlets(seqlets, { top: 3 });
  golden.queries.filter((q) => q.annotate).forEach((q, i) => {
    assert.equal(got[i].id, q.id);
    assert.deepEqual(got[i].motifs.map((m) => `${m.id} ${m.name}`), q.annotate.motifs, q.id);
    got[i].motifs.forEach((m, k) => {
      assert.ok(Math.abs(m.pValue - q.annotate.p[k]) <= 1e-12 * q.annotate.p[k], `${q.id} ${m.id}`);
      assert.ok(m.qValue >= m.pValue && ['+', '-'].includes(m.strand));
    });
  });
  // A user's MEME text instead of JASPAR; bad options and bad MEME text are refused by name.
  const meme = 'MEME version 4\n\nALPHABET= ACGT\n\nMOTIF m1 ONE\nletter-probability matrix: alength= 4 w= 2\n1 0 0 0\n0 1 0 0\n';
  assert.equal(annotateSeqlets([{ sequence: 'AC' }], { motifs: meme })[0].motifs[0].name, 'ONE');
  assert.throws(() => annotateSeqlets(seqlets, { n: 3 }), /unknown key 'n' in the annotation options; expected one of motifs, top/);
  assert.throws(() => annotateSeqlets(seqlets, { motifs: 'MOTIF x\nletter-probability matrix: w= 1\n1 0\n' }), /the motifs option, line 3: motif x: found 2 values/);
  assert.throws(() => annotateSeqlets([{ start: 0 }]), /seqlet 0: no sequence/);
});