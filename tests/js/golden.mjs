// Shared helpers: the golden tables (from onnxruntime, scripts/golden.py) and comparisons.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Parses a predictions TSV into {ids, labels, rows: [[start, end, ...values]]}. */
export function readTsv(path) {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const labels = lines[0].split('\t').slice(4);
  const ids = [];
  const coords = [];
  const values = [];
  for (const line of lines.slice(1)) {
    const f = line.split('\t');
    ids.push(f[0]);
    coords.push([Number(f[2]), Number(f[3])]);
    values.push(f.slice(4).map(Number));
  }
  return { ids, labels, coords, values };
}

/** Asserts predictions `got` ({ids, labels, values, shape}) match a table within `tol`. */
export function assertMatches(got, want, tol, source) {
  assert.deepEqual(got.ids, want.ids, `ids differ from ${source}`);
  assert.deepEqual(got.labels, want.labels, `labels differ from ${source}`);
  assert.deepEqual(got.shape, [want.ids.length, want.labels.length]);
  let worst = 0;
  want.values.forEach((row, i) =>
    row.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(got.values[i * row.length + j] - v));
    }),
  );
  assert.ok(worst <= tol, `max |seqlens - ${source}| = ${worst} > ${tol}`);
  return worst;
}

/** The sample genome's contigs, parsed here from the FASTA text (independently of seqlens). */
export function genomeText() {
  const text = readFileSync(`${ROOT}/examples/data/genome.fa`, 'utf8');
  const out = {};
  for (const rec of text.split('>').filter(Boolean)) {
    const nl = rec.indexOf('\n');
    out[rec.slice(0, nl).split(/\s/)[0]] = rec.slice(nl + 1).replace(/\s/g, '');
  }
  return out;
}

/**
 * Reference and alternate windows (length 500) for the sample VCF's SNV (chrA:2006 C>A),
 * insertion (chrA:9010 G>GGGAA) and deletion (chrB:1502 AAAG>A), sliced by hand: each allele
 * centred with (500 - allele length) / 2 bases of left flank. Keyed by the allele's row index
 * in the sample VCF.
 */
export function handBuiltVariantWindows() {
  const g = genomeText();
  const s = (c, a, b) => g[c].slice(a, b);
  return {
    0: [s('chrA', 1756, 2256), s('chrA', 1756, 2005) + 'A' + s('chrA', 2006, 2256)],
    2: [s('chrA', 9009 - 249, 9009 + 251), s('chrA', 9009 - 247, 9009) + 'GGGAA' + s('chrA', 9010, 9010 + 248)],
    3: [s('chrB', 1501 - 248, 1501 + 252), s('chrB', 1501 - 249, 1501) + 'A' + s('chrB', 1505, 1505 + 250)],
  };
}

/** Asserts variant effects match predictions on the hand-built windows within `tol`. */
export async function assertVariantsMatchHandBuilt(effects, model, tol) {
  for (const [row, [ref, alt]] of Object.entries(handBuiltVariantWindows())) {
    assert.equal(ref.length, 500);
    assert.equal(alt.length, 500);
    const p = await model.predict([ref, alt]);
    const k = p.shape[1];
    const e = effects.variants[row];
    assert.equal(e.status, 'ok');
    for (let j = 0; j < k; j++) {
      assert.ok(Math.abs(e.ref_pred[j] - p.values[j]) <= tol, `row ${row} ref ${j}`);
      assert.ok(Math.abs(e.alt_pred[j] - p.values[k + j]) <= tol, `row ${row} alt ${j}`);
      assert.ok(Math.abs(e.scores[0][j] - (p.values[k + j] - p.values[j])) <= tol, `row ${row} diff ${j}`);
    }
  }
}

/**
 * Debian's headless Chromium (no browser download) for the browser tests. `webgpu` adds
 * `--enable-unsafe-webgpu`, which gives Chromium's software adapter (SwiftShader); without it
 * there is no WebGPU adapter, which is how the CPU fallback is tested.
 */
export function launchChromium({ webgpu = false } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...(webgpu ? ['--enable-unsafe-webgpu'] : [])],
  });
}

/**
 * Asserts seqlens' splice alleles equal cispliceai's (tests/golden/cispliceai/golden.json,
 * scripts/cispliceai_golden.py with TensorFlow), as tests/splice.rs does: same genes, DS
 * within 1e-4, DP equal unless other positions come within 2e-4 of the best value (then it
 * must be one of those), ref_mismatch where cispliceai reports one. `want` are golden rows.
 */
export function assertSpliceMatches(alleles, want, what) {
  const TOL = 1e-4;
  const TIE = 2e-4;
  for (const w of want) {
    const g = alleles.find((a) => a.id === w.id && a.alt === w.alt);
    assert.ok(g, `${what}: no allele ${w.id} ${w.alt}`);
    if (typeof w.annotations[0].error === 'string') {
      assert.equal(g.status, 'ref_mismatch', `${what}: ${w.id}`);
      continue;
    }
    assert.equal(g.status, 'ok', `${what}: ${w.id}`);
    assert.equal(g.annotations.length, w.annotations.length, `${what}: ${w.id} genes`);
    g.annotations.forEach((a, i) => {
      const b = w.annotations[i];
      assert.equal(a.gene, b.area, `${what}: ${w.id}`);
      for (const k of ['AG', 'AL', 'DG', 'DL']) {
        const ds = a[`ds_${k.toLowerCase()}`];
        assert.ok(Math.abs(ds - b[`DS_${k}`]) <= TOL, `${what}: ${w.id} DS_${k} ${ds} vs ${b[`DS_${k}`]}`);
        const top = b.top[k];
        const tied = top.filter((t) => top[0][1] - t[1] <= TIE).map((t) => t[0]);
        const dp = a[`dp_${k.toLowerCase()}`];
        if (tied.length < top.length) assert.ok(tied.includes(dp), `${what}: ${w.id} DP_${k} ${dp} vs ${tied}`);
      }
    });
  }
}

/** The golden rows of one setting whose ids are in `ids`. */
export function spliceGolden(setting, ids) {
  const g = JSON.parse(readFileSync(`${ROOT}/tests/golden/cispliceai/golden.json`, 'utf8'));
  return g.fixed[setting].filter((r) => ids.includes(r.id));
}

/** A VCF of the example's records with these ids (examples/data/splice/variants.vcf). */
export function spliceVcf(ids) {
  const lines = readFileSync(`${ROOT}/examples/data/splice/variants.vcf`, 'utf8').trim().split('\n');
  return lines.filter((l) => l.startsWith('#') || ids.includes(l.split('\t')[2])).join('\n') + '\n';
}
