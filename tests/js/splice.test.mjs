// CI-SpliceAI in the npm package under Node: the bundled model on the example genome (plain
// and bgzf, read by slices), scores equal to cispliceai's own (golden from TensorFlow), typed
// variants, the annotated VCF, and profile predictions equal to TensorFlow's per base.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Model, Genes, fsGenome } from 'seqlens';
import { ROOT, assertSpliceMatches, spliceGolden, spliceVcf } from './golden.mjs';

const DATA = `${ROOT}/examples/data/splice`;
const IDS = ['A_donor1_G>', 'A_del_donor2', 'A_ins_ppt4', 'B_donor_minus', 'C_acceptor2_near_start', 'ref_mismatch', 'symbolic'];
const options = { distance: 50, mask: true };

async function load() {
  const model = await Model.load(readFileSync(`${ROOT}/examples/models/cispliceai/cispliceai.onnx`));
  const genes = await Genes.load(readFileSync(`${DATA}/genes.csv`), 'genes.csv');
  return { model, genes };
}

test('splice scores equal cispliceai (plain and bgzf genomes)', async () => {
  const { model, genes } = await load();
  assert.equal(genes.length, 3);
  assert.equal(model.backend.engine, 'seqlens');
  const want = spliceGolden('d50_mask', IDS);
  for (const file of ['genome.fa', 'genome.fa.gz']) {
    const genome = fsGenome(`${DATA}/${file}`);
    let calls = 0;
    const r = await model.scoreSplice(spliceVcf(IDS), genome, genes, options, { onProgress: () => { calls++; } });
    genome.close();
    assert.ok(calls > 0);
    assertSpliceMatches(r.alleles, want, `Node, ${file}`);
    assert.equal(r.alleles.find((a) => a.id === 'symbolic').status, 'symbolic_allele');
    const near = r.alleles.find((a) => a.id === 'C_acceptor2_near_start');
    assert.ok(near.padded[0] > 0 && /past the contig/.test(near.message));
    // the annotated VCF carries cispliceai's INFO field
    const line = r.vcf.split('\n').find((l) => l.includes('A_donor1_G>'));
    assert.match(line, /CISpliceAI=A\|ENSG_A\|\d\.\d\d\|/);
    assert.match(r.vcf, /##INFO=<ID=CISpliceAI,/);
    assert.match(r.tsv.split('\n')[0], /^chrom\tpos\tid\tref\talt\tstatus\tgene/);
  }
  model.free();
});

test('typed variants score like their VCF records, with tracks for figures', async () => {
  const { model, genes } = await load();
  const genome = fsGenome(`${DATA}/genome.fa`);
  const r = await model.scoreSplice('chr1:9161 G>A\nchr1-22050-C-G', genome, genes, { ...options, includeTracks: true });
  genome.close();
  const want = spliceGolden('d50_mask', ['A_donor1_G>', 'B_donor_minus']).map((w, i) => ({ ...w, id: null }));
  assertSpliceMatches(r.alleles, want, 'typed');
  const a = r.alleles[0].annotations[0];
  assert.equal(a.tracks.ref_donor.length, 102);
  assert.equal(a.tracks.start, 9161 - 50);
  // the REF donor at the GT is strong, and the variant removes it
  const i = 9160 - a.tracks.start;
  assert.ok(a.tracks.ref_donor[i] > 0.5 && a.tracks.alt_donor[i] < a.tracks.ref_donor[i] - 0.5);
  await assert.rejects(model.scoreSplice('chr1 9161 G', genome, genes), /chrom:pos ref>alt/);
  model.free();
});

test('profile predictions equal TensorFlow per base ([n, classes, positions])', async () => {
  const { model } = await load();
  const want = JSON.parse(readFileSync(`${ROOT}/tests/golden/cispliceai/profile.json`, 'utf8'));
  const p = await model.predict(want.map((w, i) => ({ id: `w${i}`, seq: w.sequence })));
  assert.equal(p.kind, 'profile');
  assert.deepEqual(p.labels, ['neither', 'acceptor', 'donor']);
  assert.deepEqual(p.shape, [2, 3, 10400]);
  want.forEach((w, n) => {
    for (const [c, key] of [[1, 'acceptor'], [2, 'donor']]) {
      let worst = 0;
      w[key].forEach((v, j) => {
        worst = Math.max(worst, Math.abs(p.values[(n * 3 + c) * 10400 + 5000 + j] - v));
      });
      assert.ok(worst < 1e-5, `${key} ${n}: max |seqlens - TensorFlow| ${worst}`);
    }
  });
  model.free();
});
