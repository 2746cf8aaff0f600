// The npm package as a new user gets it: the tarball of `npm pack` installed into a fresh app
// (apps/), then
// - built by Vite and by webpack, in production and with no configuration, and served by
//   Vite's dev server,
// - loaded unbundled from a <script type=module> through an import map,
// - imported (ESM) and required (CommonJS) in Node, and on a Node that cannot require ES
//   modules, refused with a clear error,
// - type-checked by tsc: the READMEs' examples strictly, and the www/ page.
// Each app predicts the sample FASTA on the page's main thread and in a SeqlensWorker, in
// headless Chromium, and the numbers are checked against onnxruntime's (tests/golden). Pages
// are served both plain and cross-origin isolated, where the unbundled worker runs the threaded
// build and a bundled one runs the plain build and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { ROOT, readTsv, assertMatches, launchChromium } from './golden.mjs';

const APPS = join(ROOT, 'target/ci/apps');
const TOOLS = join(ROOT, 'tests/js/node_modules');
const MODEL = join(ROOT, 'examples/models/demo.onnx');
const FASTA = join(ROOT, 'examples/data/sample.fa');
const GOLDEN = readTsv(join(ROOT, 'tests/golden/demo_sample.tsv'));
// The same tolerance as browser.test.mjs: the CPU engine against onnxruntime.
const TOL = 1e-5;

let browser;
const logs = {};

// The tools colour their output when they see a CI variable (picocolors, colorette), which
// splits what the tests match (Vite prints the port in bold). NO_COLOR turns that off, and
// `plain` strips any escape a tool prints regardless.
const TOOL_ENV = { ...process.env, NO_COLOR: '1' };
delete TOOL_ENV.FORCE_COLOR;
const plain = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

function run(cmd, args, cwd) {
  return plain(execFileSync(cmd, args, { cwd, env: TOOL_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

before(async () => {
  rmSync(APPS, { recursive: true, force: true });
  cpSync(join(ROOT, 'tests/js/apps'), APPS, { recursive: true });
  // What a user does: pack the built package, install the tarball into an app.
  const tarball = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', APPS, join(ROOT, 'pkg')], APPS))[0].filename;
  writeFileSync(join(APPS, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', `./${tarball}`], APPS);
  // Production builds with no configuration file; their output is kept for the messages below.
  logs.vite = run('node', [join(TOOLS, 'vite/bin/vite.js'), 'build'], join(APPS, 'vite'));
  logs.webpack = run('node', [join(TOOLS, 'webpack-cli/bin/cli.js'), '--mode', 'production'], join(APPS, 'webpack'));
  copyFileSync(join(APPS, 'webpack/index.html'), join(APPS, 'webpack/dist/index.html'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** Serves `root` and runs the app at `path` in it (see openApp). */
async function runApp(root, path, isolated) {
  const { server, url } = await serve(0, { root, isolated });
  try {
    return await openApp(`${url}${path}`);
  } finally {
    server.close();
  }
}

/** Opens the app at `address` in Chromium and runs it on the demo model and sample. */
async function openApp(address) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  try {
    await page.goto(address);
    await page.waitForFunction(() => document.body.dataset.ready === 'yes', null, { timeout: 30000 });
    // A worker that never starts would leave the promise pending: fail after a minute instead.
    const got = await Promise.race([
      page.evaluate(
        ([bytes, fasta]) => window.seqlensApp(new Uint8Array(bytes), fasta),
        [Array.from(readFileSync(MODEL)), readFileSync(FASTA, 'utf8')],
      ),
      new Promise((_, fail) => setTimeout(() => fail(new Error(`${address}: no answer in 60 s; page errors: ${errors}`)), 60000).unref()),
    ]);
    return { got, errors };
  } finally {
    await page.close();
  }
}

// A bundled app cannot run the threaded build (index.js, importThreaded): isolated, its worker
// runs the plain build and says why; unbundled, the worker runs the threaded build.
function assertApp({ got, errors }, { isolated, bundled }, what) {
  assert.deepEqual(errors, [], `${what}: errors in the page`);
  assertMatches(got.main, GOLDEN, TOL, `onnxruntime (${what}, main thread)`);
  assertMatches(got.worker, GOLDEN, TOL, `onnxruntime (${what}, SeqlensWorker)`);
  const { build, reason } = got.threading;
  if (!isolated) assert.match(reason, /not cross-origin isolated/, what);
  else if (bundled) assert.match(reason, /^the threaded build did not load from .*bundlers do not copy it$/, what);
  assert.equal(build, isolated && !bundled ? 'threads' : 'plain', `${what}: ${JSON.stringify(got.threading)}`);
}

for (const isolated of [false, true]) {
  const how = isolated ? 'cross-origin isolated' : 'not isolated';

  test(`Vite production build, no configuration (${how})`, async () => {
    assertApp(await runApp(join(APPS, 'vite/dist'), '/', isolated), { isolated, bundled: true }, 'Vite');
  });

  test(`webpack production build, no configuration (${how})`, async () => {
    assertApp(await runApp(join(APPS, 'webpack/dist'), '/', isolated), { isolated, bundled: true }, 'webpack');
  });

  test(`<script type=module> with an import map, no bundler (${how})`, async () => {
    assertApp(await runApp(APPS, '/script/', isolated), { isolated, bundled: false }, 'script tag');
  });
}

test('Vite dev server, no configuration', async () => {
  // `vite` as a user starts it while developing: modules served one by one, dependencies
  // pre-bundled by its optimizer.
  const dev = spawn('node', [join(TOOLS, 'vite/bin/vite.js'), '--port', '0', '--host', '127.0.0.1'], {
    cwd: join(APPS, 'vite'),
    env: TOOL_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let log = '';
    const address = await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`vite dev did not start in 30 s:\n${log}`)), 30000);
      const read = (chunk) => {
        log += plain(String(chunk));
        const m = log.match(/http:\/\/127\.0\.0\.1:\d+\//);
        if (m) {
          clearTimeout(timer);
          ok(m[0]);
        }
      };
      dev.stdout.on('data', read);
      dev.stderr.on('data', read);
      dev.on('exit', (code) => fail(new Error(`vite dev exited with ${code}:\n${log}`)));
    });
    assertApp(await openApp(address), { isolated: false, bundled: true }, 'Vite dev');
  } finally {
    dev.kill();
  }
});

test('the bundlers build without warnings about the package', () => {
  // webpack's one warning is its performance hint for any asset over 244 KiB: the .wasm is 9 MB.
  const warnings = [...logs.webpack.matchAll(/^WARNING in (.*)$/gm)].map((m) => m[1]);
  // Seeing that expected warning shows the match reads webpack's log at all.
  assert.ok(warnings.some((w) => w.startsWith('asset size limit')), logs.webpack);
  assert.deepEqual(warnings.filter((w) => !w.startsWith('asset size limit')), [], logs.webpack);
  assert.doesNotMatch(logs.webpack, /Critical dependency|Module not found/, logs.webpack);
  assert.doesNotMatch(logs.vite, /warning|\(!\)/i, logs.vite);
});

for (const [what, file] of [['import (ESM)', 'node/esm.mjs'], ['require (CommonJS)', 'node/cjs.cjs']]) {
  test(`Node ${what} from the tarball`, () => {
    const got = JSON.parse(run('node', [join(APPS, file), MODEL, FASTA], APPS));
    assertMatches(got, GOLDEN, TOL, `onnxruntime (Node ${what})`);
  });
}

test('Node that cannot require() ES modules gets a clear error from require', () => {
  // Node before 20.19 / 22.12 behaves as this flag makes Node 20.19+ behave.
  assert.throws(
    () => run('node', ['--no-experimental-require-module', join(APPS, 'node/cjs.cjs'), MODEL, FASTA], APPS),
    (e) => /seqlens is an ES module, and this Node \(v[\d.]+\) cannot require\(\) one: .*await import\('seqlens'\)/.test(e.stderr),
  );
});

test("tsc: the READMEs' examples (strict) and the page type-check against the packed types", () => {
  const dir = join(APPS, 'types');
  for (const [name, file] of [['readme', 'README.md'], ['pkg_readme', 'pkg-templates/README.md']]) {
    const blocks = [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^```js\n([\s\S]*?)^```$/gm)];
    assert.ok(blocks.length > 0, `no js examples in ${file}`);
    // Each block is a module of its own; examples.d.ts declares only what a reader holds.
    blocks.forEach((m, i) => writeFileSync(join(dir, `${name}_${i + 1}.ts`), `${m[1]}export {};\n`));
  }
  const tsc = join(TOOLS, 'typescript/bin/tsc');
  for (const project of ['tsconfig.json', 'page.tsconfig.json']) {
    try {
      run('node', [tsc, '-p', project], dir);
    } catch (e) {
      assert.fail(`tsc -p ${project}:\n${e.stdout}${e.stderr}`);
    }
  }
});
