// CI-SpliceAI splice-variant scoring in the browser: seconds per variant for seqlens' wasm
// build (the seqlens engine on the CPU, one thread: the package has no threaded build
// yet) in headless Chromium, on the data of benches/peers/splice_bench.py, and the native
// CLI on the same files in the same run for scale.
//
//   python3 benches/peers/splice_bench.py --data-only target/splice-bench
//   cargo build --release && bash scripts/build-pkg.sh
//   cd benches/peers/browser && npm ci && node splice.mjs [data dir relative to the repo root]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { serve } from '../../../scripts/serve.mjs';

const root = new URL('../../../', import.meta.url).pathname;
const dir = process.argv[2] ?? 'target/splice-bench';
const vcf = readFileSync(`${root}/${dir}/variants.vcf`, 'utf8');
const n = vcf.split('\n').filter((l) => l && !l.startsWith('#')).length;

const t0 = performance.now();
execFileSync(`${root}/target/release/seqlens`, ['splice', '--vcf', `${dir}/variants.vcf`, '--genome', `${dir}/genome.fa`,
  '-a', `${dir}/genes.csv`, '--backend', 'cpu', '--out', `${dir}/native.vcf`],
{ cwd: root, env: { ...process.env, RAYON_NUM_THREADS: '1' }, stdio: 'ignore' });
const native = (performance.now() - t0) / 1000;

const { server, url } = await serve();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error('[page]', m.text()));
  await page.goto(`${url}/tests/js/page.html`);
  const r = await page.evaluate(async ({ dir, vcf }) => {
    const { init, Model, Genes } = await import('/pkg/index.js');
    await init();
    const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
    const model = await Model.load(await bytes('/examples/models/cispliceai/cispliceai.onnx'), null, { backend: 'cpu' });
    const genes = await Genes.load(await bytes(`/${dir}/genes.csv`), 'genes.csv');
    const fa = await bytes(`/${dir}/genome.fa`);
    const genome = {
      name: 'genome.fa', size: fa.length,
      fai: await (await fetch(`/${dir}/genome.fa.fai`)).text(),
      read: (offset, length) => fa.subarray(offset, offset + length),
    };
    const t = performance.now();
    const out = await model.scoreSplice(vcf, genome, genes, {});
    return { seconds: (performance.now() - t) / 1000, alleles: out.alleles.length, backend: model.backend };
  }, { dir, vcf });
  console.log(`${n} variants (${r.alleles} alleles), CI-SpliceAI, default distance 1000, backend ${JSON.stringify(r.backend)}`);
  console.log(`| build | threads | seconds | seconds per variant |`);
  console.log(`|---|---|---|---|`);
  console.log(`| wasm (simd128) in Chromium | 1 | ${r.seconds.toFixed(1)} | ${(r.seconds / n).toFixed(3)} |`);
  console.log(`| native CLI | 1 | ${native.toFixed(1)} | ${(native / n).toFixed(3)} |`);
} finally {
  await browser.close();
  server.close();
}
