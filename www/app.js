// The analysis page. All work runs in the seqlens Web Worker (pkg/worker.js) through
// SeqlensWorker, so the page stays responsive; files are read locally (the reference genome
// in slices, inside the worker) and no request carrying user data is ever made. A service
// worker (sw.js) caches the page, the package and the demo model so it works offline.
import { SeqlensWorker } from '../pkg/index.js';

// Typed loosely for tsc's check of the page (bundlers.test.mjs): each id is a known element.
/** @type {(id: string) => any} */
const $ = (id) => document.getElementById(id);
// viaBlob: the service worker must also serve the worker's script, for offline starts.
const worker = new SeqlensWorker({ viaBlob: true });
let info = null;
let result = null;
let effects = null;
/** The last motif discovery ({seqlets, metaclusterSizes, patterns}), or null. */
let motifs = null;
/** The predictions table's sort: {col, desc}, or null for input order. */
let sort = null;
let running = null;
const variantFiles = { vcf: null, fasta: null, fai: null };
/** What the sequence box holds, for messages: the files it was read from, or typed text. */
let inputName = 'the sequence box';

/** Shows `e` (an Error, a string, or null to clear) in the error box of `section`
 * ('model', 'input', 'explain', 'motifs', 'variants' or 'splice'), next to what caused it. */
function showError(section, e) {
  const box = $(`error-${section}`);
  box.replaceChildren();
  box.hidden = !e;
  if (!e) return;
  const message = String(e.message ?? e);
  // The library's advice names the CLI flag and the JS option; the page has a checkbox.
  const unknown = / \(set the unknown-character policy to as-n[^)]*\)/;
  if (section === 'input' && unknown.test(message)) {
    box.append(`${message.replace(unknown, '')}. `, actionButton('Treat unknown characters as N and predict again', () => {
      $('unknown-as-n').checked = true;
      $('predict').click();
    }));
  } else {
    box.textContent = message;
  }
}

/** A button inside a message that offers the page's own fix. */
function actionButton(text, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

/** Enter or Space on a focused row or sortable header of `table` does what a click does. */
function clickOnEnter(table) {
  $(table).addEventListener('keydown', (ev) => {
    if ((ev.key === 'Enter' || ev.key === ' ') && ev.target.matches('tr[tabindex], th[tabindex]')) {
      ev.preventDefault();
      ev.target.click();
    }
  });
}
for (const t of ['results', 'variants', 'splice-table']) clickOnEnter(t);

function escape(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

/** The last failure of busy(), for callers that say more about it. */
let lastFailure = null;

function seconds(s) {
  return s < 90 ? `${Math.ceil(s)} s` : `${Math.round(s / 60)} min`;
}

/**
 * Runs `work(signal, onProgress)` with the progress bar (fixed on screen, with the rate and
 * the time left in `unit`s) and the Cancel button, while the buttons that start work are
 * disabled. A failure shows in `section`'s error box; resolves to undefined then.
 */
async function busy(label, work, { section, unit = 'steps' }) {
  if (running) running.abort();
  const ctl = new AbortController();
  running = ctl;
  lastFailure = null;
  $('busy-label').textContent = label;
  $('busy-rate').textContent = '';
  $('progress').removeAttribute('value');
  $('busy').hidden = false;
  showError(section, null);
  updateButtons();
  const started = performance.now();
  try {
    return await work(ctl.signal, (done, total) => {
      $('progress').value = total ? done / total : 0;
      const elapsed = (performance.now() - started) / 1000;
      if (done > 0 && total && elapsed > 0) {
        const rate = done / elapsed;
        $('busy-rate').textContent = `${done.toLocaleString()} of ${total.toLocaleString()} ${unit}, ` +
          `${rate >= 10 ? Math.round(rate).toLocaleString() : rate.toFixed(1)} per second, about ${seconds((total - done) / rate)} left`;
      }
    });
  } catch (e) {
    lastFailure = e;
    showError(section, e.name === 'AbortError' ? `${label} cancelled.` : e);
    return undefined;
  } finally {
    if (running === ctl) {
      running = null;
      $('busy').hidden = true;
      updateButtons();
    }
  }
}

/** Enables the buttons that start work only when their inputs are there and nothing runs. */
function updateButtons() {
  const idle = !running;
  $('predict').disabled = !(idle && info);
  $('run-demo').disabled = !(idle && info);
  $('try-splice').disabled = !idle;
  $('explain').disabled = !(idle && info && result);
  $('discover').disabled = !(idle && info?.gradients && result && info.metadata.alphabet === 'dna');
  const { vcf, fasta, fai } = variantFiles;
  $('score').disabled = !(idle && info && vcf && fasta && fai);
  $('splice-score').disabled = !(idle && spliceInputs().ready);
}

$('cancel').addEventListener('click', () => running?.abort());

/** Which backend runs the model's predictions, and why (shown with the model info). */
function backendLine(b, gradients, threading) {
  if (b.backend === 'webgpu') return `backend: WebGPU (${b.adapter}) for predictions, ISM and variant scoring; gradient methods on ${gradients === 'gpu' ? 'WebGPU' : `the CPU: ${gradients.replace(/^cpu \((.*)\)$/, '$1')}`}; fast ISM on the CPU.`;
  const threads = threading.build === 'threads' ? `${threading.threads} threads` : `one thread: ${threading.reason}`;
  return `backend: CPU (WebAssembly SIMD in a worker, ${threads}). WebGPU not used: ${b.reason}.`;
}

/** What the bundled model is, which its metadata cannot say. */
const BUNDLED_ABOUT = 'A demo: a small CNN trained on simulated sequences with planted JASPAR motifs ' +
  '(examples/models/demo.toml), so it finds those motifs; it is not a model of real biology.';

/** The model in use, kept so that a change of backend can reload it. */
let current = null;

/** One line on what the model is and what its values mean, from its metadata. */
function modelAbout(md, name, about) {
  const task = md.task ? { classification: 'per-label probabilities (0 to 1)', binary: 'per-label probabilities (0 to 1)',
    multilabel: 'per-label probabilities (0 to 1)', regression: 'regression values' }[md.task] ?? `${md.task} outputs` : 'its raw outputs';
  const what = about ? `${about} ` : '';
  return `${name}: ${what}It reads ${md.length ? `${md.length}-bp` : 'any-length'} ${md.alphabet.toUpperCase()} ` +
    `sequences and gives ${task} for ${md.labels.length === 1 ? 'one label' : `${md.labels.length} labels`} (${md.labels.join(', ')}).`;
}

/** Hides results computed with another model or input: they no longer match what is shown. */
function clearResults() {
  result = null;
  effects = null;
  $('results-section').hidden = true;
  $('explain-section').hidden = true;
  $('variants-section').hidden = true;
  $('stride-warning').hidden = true;
  clearExplanation();
  motifs = null;
  $('motifs').hidden = true;
  $('download-motifs').hidden = true;
  $('motif-summary').textContent = '';
}

function clearExplanation() {
  $('logo').replaceChildren();
  $('heatmap').replaceChildren();
  $('explain-note').textContent = '';
  $('explain-nav').hidden = true;
  $('seqlets').hidden = true;
}

/** The seqlets of attribution `a` (its per-base scores; not for the gradient, whose map is
 * hypothetical), in a table under the logo. */
async function showSeqlets(a, method) {
  const table = $('seqlets');
  table.hidden = method === 'grad';
  if (table.hidden) return;
  const found = await worker.annotateSeqlets(await worker.callSeqlets([a]));
  // A seqlet of only Ns has no motif to name.
  const motif = (q) => q.motifs[0]
    ? `<td>${escape(`${q.motifs[0].id} ${q.motifs[0].name}`)} (${q.motifs[0].strand})</td><td>${q.motifs[0].qValue.toExponential(1)}</td>`
    : '<td>none</td><td></td>';
  table.tBodies[0].innerHTML = found.length === 0
    ? '<tr><td colspan="7">no seqlet passes p &lt; 0.01</td></tr>'
    : found.map((q) => `<tr><td>${q.start}</td><td>${q.end}</td><td class="seq">${escape(q.sequence)}</td>` +
      `<td>${q.attribution.toPrecision(3)}</td><td>${q.pValue.toExponential(1)}</td>${motif(q)}</tr>`).join('');
}

/**
 * Loads a model into the worker. A model that fails keeps the one before in use (the worker
 * only replaces a model once the new one has loaded); one that fails on WebGPU alone runs on
 * the CPU instead, and the page says so.
 */
async function useModel(bytes, name, about = null) {
  let backend = $('backend').value;
  const load = (b) => busy(`Loading ${name}`, () => worker.load(bytes, null, { backend: b }), { section: 'model' });
  let loaded = await load(backend);
  let fellBack = null;
  if (!loaded && backend === 'webgpu' && lastFailure?.name !== 'AbortError') {
    fellBack = lastFailure;
    backend = 'cpu';
    loaded = await load(backend);
  }
  if (!loaded) {
    const why = String(lastFailure?.message ?? lastFailure);
    if (lastFailure?.name === 'AbortError') return;
    if (current) {
      $('backend').value = current.backend;
      showError('model', `${name} could not be loaded: ${why}\nStill using ${current.name}.`);
    } else {
      info = null;
      $('model-info').textContent = `${name}: could not be loaded.`;
      updateButtons();
    }
    return;
  }
  const changed = current?.bytes !== bytes;
  current = { bytes, name, backend, about };
  info = loaded;
  if (changed) clearResults();
  if (fellBack) {
    $('backend').value = 'cpu';
    showError('model', `WebGPU could not run ${name} (${fellBack.message ?? fellBack}), so it runs on the CPU.`);
  }
  const md = info.metadata;
  $('model-about').textContent = modelAbout(md, name, about);
  $('model-info').textContent =
    `${info.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ')}; ` +
    `alphabet ${md.alphabet}, layout ${md.layout}, length ${md.length ?? 'any'}, N policy ${md.n_policy}` +
    `${md.task ? `, task ${md.task}` : ''}\n` +
    `labels: ${md.labels.join(', ')}\n` +
    `${info.parameters.toLocaleString()} parameters; ops ${Object.entries(info.ops).map(([k, v]) => `${k}×${v}`).join(' ')}\n` +
    `attribution: ${info.gradients ? 'all methods' : `ISM only (${info.gradientsUnavailable})`}\n` +
    backendLine(info.backend, info.gradientBackend, info.threading);
  const labelOptions = md.labels.map((l, i) => `<option value="${i}">${escape(l)}</option>`).join('');
  for (const sel of ['explain-label', 'variant-label']) $(sel).innerHTML = labelOptions;
  $('motif-label').innerHTML = (md.labels.length > 1 ? '<option value="all">all labels (summed)</option>' : '') + labelOptions;
  for (const opt of $('explain-method').options) {
    opt.disabled = !info.gradients && opt.value !== 'ism';
  }
  if (!info.gradients) $('explain-method').value = 'ism';
  updateButtons();
}

// ---- predictions -------------------------------------------------------------------------

/** Rows shown per page of a result table: the page never renders more than this at once. */
const PAGE_ROWS = 100;

/**
 * A result table shown PAGE_ROWS rows at a time, however long the result. `pagerId` is the
 * table's <p> with .page-prev, .page-info and .page-next. show(order, head, row) draws the
 * first page of `order` (row keys in display order) with `row(key)` giving each row's HTML;
 * `keepPage` stays on the page shown (a relabelling, not a new order). `onPage(keys)` hears
 * which rows are on screen.
 */
/** @param {string} tableId @param {string} pagerId @param {(keys: number[]) => void} [onPage] */
function pagedTable(tableId, pagerId, onPage = () => {}) {
  const pager = $(pagerId);
  const [prev, where, next] = ['.page-prev', '.page-info', '.page-next'].map((c) => pager.querySelector(c));
  const t = { order: [], start: 0, head: '', row: null };
  function draw() {
    const n = t.order.length;
    const keys = t.order.slice(t.start, t.start + PAGE_ROWS);
    $(tableId).innerHTML = `<thead><tr>${t.head}</tr></thead><tbody>${Array.from(keys, t.row).join('')}</tbody>`;
    pager.hidden = n <= PAGE_ROWS;
    where.textContent = `rows ${(t.start + 1).toLocaleString()}–${(t.start + keys.length).toLocaleString()} of ${n.toLocaleString()}`;
    prev.disabled = t.start === 0;
    next.disabled = t.start + PAGE_ROWS >= n;
    onPage(keys);
  }
  prev.addEventListener('click', () => {
    t.start = Math.max(0, t.start - PAGE_ROWS);
    draw();
  });
  next.addEventListener('click', () => {
    t.start += PAGE_ROWS;
    draw();
  });
  return {
    show(order, head, row, { keepPage = false } = {}) {
      Object.assign(t, { order, head, row });
      if (!keepPage || t.start >= order.length) t.start = 0;
      draw();
    },
  };
}

/** The sort after a click on column `col` of a table sorted by `s`: descending first, then
 * flipping. */
function nextSort(s, col) {
  return { col, desc: s?.col === col ? !s.desc : true };
}

/** After a re-render, puts the keyboard back on header `col` of `tableId`. */
function focusHeader(tableId, col) {
  $(tableId).querySelector(`th[data-col="${col}"]`).focus();
}

/** The sortable header cell of column `col` (sort state `s`: {col, desc} or null). */
function sortableHeader(label, col, s) {
  const sorted = s?.col === col ? (s.desc ? 'descending' : 'ascending') : 'none';
  return `<th scope="col" data-col="${col}" tabindex="0" aria-sort="${sorted}" title="sort by ${escape(label)}">` +
    `${escape(label)}${sorted === 'none' ? '' : s.desc ? ' ▼' : ' ▲'}</th>`;
}

// The sequences offered for explanation are the prediction rows on screen.
const resultsTable = pagedTable('results', 'results-pager', (keys) => {
  $('explain-seq').innerHTML = Array.from(keys, (r) => `<option value="${r}">${escape(result.windows[r].id)}</option>`).join('');
});

/** Orders the rows (by the sorted column) and shows the first page; headers sort, rows
 * explain (click, or Enter on a focused row). */
function render() {
  const [n, k] = result.shape;
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  if (sort) {
    const key = Float32Array.from({ length: n }, (_, r) => result.values[r * k + sort.col]);
    order.sort((a, b) => (key[a] - key[b]) * (sort.desc ? -1 : 1));
  }
  const records = new Set(result.windows.map((w) => w.chrom)).size;
  $('summary').textContent = n === records
    ? `${n.toLocaleString()} sequence${n === 1 ? '' : 's'} × ${k} labels.`
    : `${n.toLocaleString()} windows from ${records.toLocaleString()} sequence${records === 1 ? '' : 's'} × ${k} labels.`;
  const head = ['id', 'start', 'end'].map((h) => `<th scope="col">${h}</th>`).join('') +
    result.labels.map((l, j) => sortableHeader(l, j, sort)).join('');
  resultsTable.show(order, head, (r) => {
    const w = result.windows[r];
    const cells = Array.from({ length: k }, (_, j) => {
      const v = result.values[r * k + j];
      return `<td${v >= 0.5 ? ' class="hi"' : ''}>${v.toFixed(3)}</td>`;
    }).join('');
    return `<tr data-row="${r}" tabindex="0" aria-label="explain ${escape(w.id)}"><td>${escape(w.id)}</td><td>${w.start}</td><td>${w.end}</td>${cells}</tr>`;
  });
  $('results-section').hidden = false;
  $('explain-section').hidden = false;
}

/** Warns when sequences longer than the model were cut to their centre, and offers tiling. */
function warnCropped(stride) {
  const length = info.metadata.length;
  const cropped = stride || !length ? 0 : result.windows.filter((w) => w.start > 0).length;
  const box = $('stride-warning');
  box.hidden = cropped === 0;
  if (!cropped) return;
  const step = Math.max(1, Math.floor(length / 2));
  box.replaceChildren(`${cropped.toLocaleString()} sequence${cropped === 1 ? ' is' : 's are'} longer than the model's ${length} bp, ` +
    `so only the central ${length} bp of ${cropped === 1 ? 'it was' : 'each were'} predicted. `,
  actionButton(`Tile every ${step} bp and predict again`, () => {
    $('stride').value = String(step);
    $('predict').click();
  }));
}

function download(name, text, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

$('predict').addEventListener('click', async () => {
  // The table shows one value per label and sequence; a profile model gives one per base.
  if (info.metadata.output?.kind === 'profile') {
    clearResults();
    showError('input', `${current.name} predicts a profile (a value per base for ${info.metadata.labels.join(', ')}), ` +
      'which this page does not show as a table yet. For CI-SpliceAI, use "Splice variants" below; ' +
      'the CLI (seqlens predict) and the npm package give a profile model\'s tracks.');
    return;
  }
  const stride = Number($('stride').value) || undefined;
  const text = $('fasta').value;
  /** @type {import('../pkg/index.js').PredictOptions} */
  const options = { rcAverage: $('rc-average').checked, stride, unknown: $('unknown-as-n').checked ? 'as-n' : 'error' };
  const r = await busy('Predicting', async (signal, onProgress) => {
    // Parsed first under the input's own name, so that a message names the file and line.
    const records = await worker.parseFasta(text, inputName);
    const out = await worker.predict(records.map(({ id, seq }) => ({ id, seq })), options, { signal, onProgress });
    return Object.assign(out, { records });
  }, { section: 'input', unit: 'windows' });
  if (!r) {
    clearResults();
    return;
  }
  result = r;
  sort = null;
  render();
  warnCropped(stride);
  updateButtons();
});

/** Sorts by a header's column, or explains a row: from a click or the keyboard. */
function activateResult(target) {
  const th = target.closest('th');
  if (th && result) {
    const col = Number(th.dataset.col ?? -1);
    if (col < 0) return;
    sort = nextSort(sort, col);
    render();
    focusHeader('results', col);
    return;
  }
  const tr = target.closest('tbody tr');
  if (tr) {
    $('explain-seq').value = tr.dataset.row;
    explain();
  }
}

$('results').addEventListener('click', (ev) => activateResult(ev.target));

// The files `seqlens predict --out` writes, byte for byte (the library formats them).
$('download-tsv').addEventListener('click', async () =>
  download('predictions.tsv', await worker.formatPredictions(result, 'tsv'), 'text/tab-separated-values'));
$('download-json').addEventListener('click', async () =>
  download('predictions.json', await worker.formatPredictions(result, 'json'), 'application/json'));

// ---- explanations ------------------------------------------------------------------------

const SYMBOLS = { dna: 'ACGT', rna: 'ACGU', protein: 'ACDEFGHIKLMNPQRSTVWY' };

/** Each position's score on its observed letter: the logo of the sequence's contributions. */
function observedMap(a, symbols) {
  const out = new Float32Array(a.channels * a.length);
  for (let t = 0; t < a.length; t++) {
    const ch = symbols.indexOf(a.sequence[t].toUpperCase());
    if (ch >= 0) out[ch * a.length + t] = a.perBase[t];
  }
  return out;
}

function peak(perBase) {
  let best = 0;
  perBase.forEach((v, i) => {
    if (Math.abs(v) > Math.abs(perBase[best])) best = i;
  });
  return best;
}

/** Pixels per position in the figures (the library's default). */
const BASE_WIDTH = 12;
/** The figures on the page by their controls, redrawn when the palette changes. */
const views = new Map();
$('palette').addEventListener('change', () => views.forEach((draw, nav) => (nav.isConnected ? draw() : views.delete(nav))));

/**
 * Figures over the same positions that move together: an explanation's logo and heatmap, or
 * a variant's reference and alternate logos. Each draws only the positions that fit its box,
 * so the title, the y scale, the row labels and the colour scale never scroll away; the
 * buttons in `nav` move along the sequence. The logos share one y range (that of the whole
 * sequences), so heights compare across panels and do not change while moving.
 * `panels`: [{map, box, title, offset, marks, effects?, sequence?, heatBox?}].
 */
function figureView(panels, nav, { length, centre }) {
  const symbols = SYMBOLS[info.metadata.alphabet];
  const view = { from: 0, n: 0, yRange: null };
  // The positions that fit: measured on the section, since an empty figure box is not shown.
  const fit = () => Math.min(length, Math.max(10, Math.floor((panels[0].box.parentElement.clientWidth - 58) / BASE_WIDTH)));
  async function draw() {
    view.n = fit();
    view.from = Math.max(0, Math.min(view.from, length - view.n));
    if (!view.yRange) {
      const ranges = await Promise.all(panels.map((p) => worker.logoRange(p.map, symbols, {})));
      view.yRange = [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
    }
    const palette = /** @type {'colorblind' | 'classic'} */ ($('palette').checked ? 'colorblind' : 'classic');
    const shown = { start: view.from, end: view.from + view.n, baseWidth: BASE_WIDTH, palette };
    for (const p of panels) {
      const opts = { ...shown, offset: p.offset, title: p.title, marks: p.marks ?? [] };
      p.box.innerHTML = await worker.logoSvg(p.map, symbols, { ...opts, yRange: view.yRange });
      if (p.heatBox) {
        p.heatBox.innerHTML = p.effects
          ? await worker.heatmapSvg(p.effects, p.sequence, symbols, { ...opts, title: `${p.title}: substitution effects`, height: 80 })
          : '';
      }
    }
    const first = panels[0].offset + view.from;
    nav.querySelector('.fig-where').textContent =
      `positions ${first.toLocaleString()}–${(first + view.n - 1).toLocaleString()} (${view.n} of ${length})`;
    nav.querySelector('.fig-back').disabled = view.from === 0;
    nav.querySelector('.fig-on').disabled = view.from + view.n >= length;
    nav.hidden = view.n >= length;
  }
  const move = (by) => {
    view.from += by;
    draw();
  };
  nav.querySelector('.fig-back').onclick = () => move(-Math.ceil(view.n / 2));
  nav.querySelector('.fig-on').onclick = () => move(Math.ceil(view.n / 2));
  nav.querySelector('.fig-centre').onclick = () => {
    view.from = centre - Math.floor(view.n / 2);
    draw();
  };
  view.from = centre - Math.floor(fit() / 2);
  views.set(nav, draw);
  return draw();
}

/** The controls figureView drives; `centreLabel` names where its middle button goes. */
function figureNav(centreLabel) {
  return `<button type="button" class="fig-back">‹ back</button>
    <span class="fig-where muted"></span> <button type="button" class="fig-on">on ›</button>
    <button type="button" class="fig-centre">${escape(centreLabel)}</button>`;
}
$('explain-nav').innerHTML = figureNav('the strongest position');

/** What a logo of attribution `a` draws: every symbol's gradient for `grad` (hypothetical
 * contributions), else the observed bases' scores. */
function logoMap(a, method) {
  return method === 'grad' ? a.map : observedMap(a, SYMBOLS[info.metadata.alphabet]);
}

/** Draws the logo (and, for ISM, the heatmap) of attribution `a`, centred on its peak. */
async function drawAttribution(a, method, title) {
  const panel = { map: logoMap(a, method), box: $('logo'), title, offset: a.start };
  if (method.endsWith('ism')) Object.assign(panel, { heatBox: $('heatmap'), effects: a.map, sequence: a.sequence });
  else $('heatmap').replaceChildren();
  await figureView([panel], $('explain-nav'), { length: a.length, centre: peak(a.perBase) });
}

async function explain() {
  if (!result) return;
  const i = Number($('explain-seq').value);
  const w = result.windows[i];
  const label = info.metadata.labels[Number($('explain-label').value)];
  const method = $('explain-method').value;
  // The window the model saw: re-cut from the input by the worker's own windowing.
  const seqs = windowSequence(i);
  // Integrated gradients on 4 shuffles keeps the page quick; DeepLIFT/SHAP takes the
  // library's (and tangermeme's) 20.
  const options = { method, target: [label], ...(method === 'ig' ? { steps: 32, shuffles: 4 } : {}) };
  const out = await busy(`Explaining ${w.id}`, (signal, onProgress) =>
    worker.attribute([{ id: w.id, seq: seqs }], options, { signal, onProgress }),
  { section: 'explain', unit: method.endsWith('ism') ? 'mutations' : 'steps' });
  if (!out) {
    clearExplanation();
    return;
  }
  const a = out[0];
  a.start = w.start;
  const name = $('explain-method').selectedOptions[0].textContent;
  await drawAttribution(a, method, `${w.id} — ${label} — ${name}`);
  // DeepLIFT's contributions sum to f(x) - f(reference); the delta says how far they miss.
  const delta = a.delta === undefined ? ''
    : ` Convergence delta ${a.delta.toExponential(1)} (largest over the references)` +
      (a.delta > 1e-3 ? ': above 0.001, so these contributions do not add up to the prediction\'s change; treat them with care.' : '.');
  $('explain-note').textContent =
    `${label} = ${a.targetValue.toFixed(4)}. Letters above the axis raise the prediction, below lower it.${delta}`;
  await showSeqlets(a, method);
}

/** The sequence of prediction window `i`: its record (parsed before predicting), cropped or
 * N-padded as the model saw it (windows are [start, end) in record coordinates). */
function windowSequence(i) {
  const w = result.windows[i];
  const rec = result.records.find((r) => r.id === w.chrom) ?? result.records[i];
  let s = '';
  for (let p = w.start; p < w.end; p++) s += p >= 0 && p < rec.seq.length ? rec.seq[p] : 'N';
  return s;
}

$('explain').addEventListener('click', explain);

// ---- motif discovery ---------------------------------------------------------------------

async function discover() {
  if (!result) return;
  const labels = info.metadata.labels;
  const choice = $('motif-label').value;
  const target = choice === 'all' ? labels : [labels[Number(choice)]];
  const minimum = (id) => {
    const v = Number($(id).value);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${$(id).labels[0].textContent.trim()}: expected a whole number of seqlets, at least 1; found '${$(id).value}'`);
    return v;
  };
  // DeepLIFT/SHAP keeps every sequence's map in the tab; past this the CLI is the tool.
  const MAX_SEQUENCES = 2000;
  if (result.windows.length > MAX_SEQUENCES) {
    showError('motifs', `Motif discovery on the page takes at most ${MAX_SEQUENCES.toLocaleString()} sequences; ` +
      `${result.windows.length.toLocaleString()} were predicted. Use seqlens attribute --method deeplift-shap and ` +
      'seqlens motifs --attributions in the CLI for more.');
    return;
  }
  let options;
  try {
    options = { metaclusters: { minSize: minimum('motif-min-metacluster') }, collapse: { finalMinClusterSize: minimum('motif-min-pattern') }, top: 1 };
  } catch (e) {
    showError('motifs', e);
    return;
  }
  const found = await busy('Attributing every sequence (DeepLIFT/SHAP)', async (signal, onProgress) => {
    const input = result.windows.map((w, i) => ({ id: w.id, seq: windowSequence(i) }));
    const attrs = await worker.attribute(input, { method: 'deeplift-shap', target, shuffles: 10 }, { signal, onProgress });
    $('busy-label').textContent = 'Discovering motifs';
    $('busy-rate').textContent = '';
    return worker.discoverMotifs(attrs, options, {
      signal,
      onProgress: (done, total, stage) => {
        $('progress').value = done / total;
        $('busy-rate').textContent = `stage ${done + 1} of at most ${total}: ${stage}`;
      },
    });
  }, { section: 'motifs', unit: 'steps' });
  if (!found) return;
  motifs = found;
  await renderMotifs();
}

/** The discovery's table: one row per pattern, with its figure (redrawn on a palette change). */
async function renderMotifs() {
  const found = motifs;
  const [pos, neg] = found.metaclusterSizes;
  const min = found.patterns.length ? '' : ` No pattern: a metacluster is clustered only above ${$('motif-min-metacluster').value} seqlets, ` +
    'and a pattern kept only with enough seqlets; more sequences, or lower minimums, may find some.';
  $('motif-summary').textContent = `${found.seqlets} seqlets; ${pos} clustered as positive and ${neg} as negative; ` +
    `${found.patterns.length} patterns.${min}`;
  const palette = $('palette').checked ? 'colorblind' : 'classic';
  const figures = await Promise.all(found.patterns.map((p) => worker.patternSvg(p, { palette })));
  if (motifs !== found) return;
  $('motifs').tBodies[0].innerHTML = found.patterns.map((p, i) => {
    const m = p.matches[0];
    return `<tr><td>${escape(p.name)}</td><td>${p.seqlets}</td>` +
      (m ? `<td>${escape(`${m.id} ${m.name}`)} (${m.strand})</td><td>${m.qValue.toExponential(1)}</td>` : '<td>none</td><td></td>') +
      `<td class="figure">${figures[i]}</td></tr>`;
  }).join('');
  $('motifs').hidden = found.patterns.length === 0;
  $('download-motifs').hidden = false;
}

$('discover').addEventListener('click', discover);
$('palette').addEventListener('change', () => motifs && renderMotifs());
$('download-motifs').addEventListener('click', () =>
  download('motifs.json', JSON.stringify(motifs), 'application/json'));

// ---- variants ----------------------------------------------------------------------------

function updateScoreButton() {
  const { vcf, fasta, fai } = variantFiles;
  updateButtons();
  $('variant-files').textContent = [vcf, fasta, fai].some(Boolean)
    ? `VCF: ${vcf?.name ?? '–'}, reference: ${fasta ? `${fasta.name} (${(fasta.size / 1e6).toFixed(1)} MB)` : '–'}, index: ${fai?.name ?? '–'}`
    : '';
}

for (const [id, key] of [['vcf-file', 'vcf'], ['ref-file', 'fasta'], ['fai-file', 'fai']]) {
  $(id).addEventListener('change', (ev) => {
    variantFiles[key] = ev.target.files[0] ?? null;
    updateScoreButton();
  });
}

$('load-sample-variants').addEventListener('click', async () => {
  const get = async (p, name) => new File([await (await fetch(p)).arrayBuffer()], name);
  variantFiles.vcf = await get('../examples/data/variants.vcf', 'variants.vcf');
  variantFiles.fasta = await get('../examples/data/genome.fa', 'genome.fa');
  variantFiles.fai = await get('../examples/data/genome.fa.fai', 'genome.fa.fai');
  updateScoreButton();
});

$('score').addEventListener('click', async () => {
  const { vcf, fasta, fai } = variantFiles;
  const r = await busy('Scoring variants', (signal, onProgress) =>
    worker.scoreVariants(vcf, { fasta, fai }, { scores: ['diff', 'abs_diff', 'log_odds', 'log2_fc'], includeSequences: true },
      { signal, onProgress }), { section: 'variants', unit: 'alleles' });
  if (!r) {
    effects = null;
    $('variants-section').hidden = true;
    return;
  }
  effects = r;
  variantSort = null;
  renderVariants();
});

const variantsTable = pagedTable('variants', 'variants-pager');
let variantSort = null;

/** The variant table for the chosen label; its value columns sort (unscored alleles last),
 * and scored rows open their reference-vs-alternate logos. */
function renderVariants({ keepPage = false } = {}) {
  const k = Number($('variant-label').value || 0);
  const scoreNames = effects.scores;
  const value = (v, col) => (col === 4 ? v.ref_pred[k] : col === 5 ? v.alt_pred[k] : v.scores[col - 6][k]);
  const order = effects.variants.map((_, i) => i);
  if (variantSort) {
    const { col, desc } = variantSort;
    const key = (i) => (effects.variants[i].status === 'ok' ? value(effects.variants[i], col) * (desc ? -1 : 1) : Infinity);
    order.sort((a, b) => key(a) - key(b));
  }
  // Every value column names the label it is for.
  const label = effects.labels[k];
  const head = ['variant', 'ref', 'alt', 'status'].map((h) => `<th scope="col">${h}</th>`).join('') +
    ['ref pred', 'alt pred', ...scoreNames].map((h, j) => sortableHeader(`${h} (${label})`, 4 + j, variantSort)).join('');
  variantsTable.show(order, head, (i) => {
    const v = effects.variants[i];
    const ok = v.status === 'ok';
    const cells = [`${v.chrom}:${v.pos}${v.id ? ` (${v.id})` : ''}`, v.ref, v.alt].map((c) => `<td>${escape(c)}</td>`).join('') +
      `<td class="${ok ? '' : 'bad'}">${escape(v.status)}${v.detail !== undefined ? ` (${escape(v.detail)})` : ''}</td>` +
      [4, 5, ...scoreNames.map((_, j) => 6 + j)].map((col) => `<td>${ok ? value(v, col).toFixed(4) : ''}</td>`).join('');
    return ok && v.windows
      ? `<tr data-row="${i}" tabindex="0" aria-label="explain ${escape(`${v.chrom}:${v.pos} ${v.ref}>${v.alt}`)}">${cells}</tr>`
      : `<tr data-row="${i}">${cells}</tr>`;
  }, { keepPage });
  const ok = effects.variants.filter((v) => v.status === 'ok').length;
  $('variant-summary').textContent = `${effects.variants.length.toLocaleString()} alleles, ${ok.toLocaleString()} scored.`;
  $('variants-section').hidden = false;
}

$('variant-label').addEventListener('change', () => effects && renderVariants({ keepPage: true }));

$('variants').addEventListener('click', async (ev) => {
  const th = ev.target.closest('th[data-col]');
  if (th && effects) {
    const col = Number(th.dataset.col);
    variantSort = nextSort(variantSort, col);
    renderVariants();
    focusHeader('variants', col);
    return;
  }
  const tr = ev.target.closest('tbody tr');
  if (!tr) return;
  const v = effects.variants[Number(tr.dataset.row)];
  if (v.status !== 'ok' || !v.windows) return;
  for (const x of $('variants').querySelectorAll('tr.selected')) x.classList.remove('selected');
  tr.classList.add('selected');
  const label = info.metadata.labels[Number($('variant-label').value || 0)];
  const method = info.gradients ? 'ixg' : 'ism';
  const name = `${v.chrom}:${v.pos} ${v.ref}>${v.alt}`;
  const out = await busy(`Explaining ${name}`, (signal, onProgress) =>
    worker.attribute([{ id: 'ref', seq: v.windows[0] }, { id: 'alt', seq: v.windows[1] }],
      { method, target: [label] }, { signal, onProgress }), { section: 'variants', unit: 'mutations' });
  if (!out) return;
  const box = $('variant-logos');
  box.innerHTML = `<p class="muted">${escape(name)}, ${escape(label)}, ${method === 'ixg' ? 'gradient × input' : 'ISM'}:
    reference allele (top) and alternate allele (bottom), each centred in its window, on one y scale; the
    allele's bases are shaded.</p><p class="fig-nav" hidden>${figureNav('the variant')}</p>
    <div class="figure" id="logo-ref"></div><div class="figure" id="logo-alt"></div>`;
  const span = (at, allele) => Array.from({ length: allele.length }, (_, i) => at + i);
  const panels = [[out[0], 'ref', v.ref, v.allele_at[0]], [out[1], 'alt', v.alt, v.allele_at[1]]].map(([a, which, allele, at]) => ({
    map: logoMap(a, method),
    box: $(`logo-${which}`),
    title: `${name} — ${which} allele — ${label}`,
    offset: 0,
    marks: span(at, allele),
  }));
  await figureView(panels, box.querySelector('.fig-nav'), { length: out[0].length, centre: v.allele_at[0] });
});

// The table `seqlens variants` writes.
$('download-variants').addEventListener('click', () => download('variant_effects.tsv', effects.tsv, 'text/tab-separated-values'));

// ---- splice variants (CI-SpliceAI) -------------------------------------------------------

// A worker of its own: CI-SpliceAI stays loaded beside the page's main model.
const spliceWorker = new SeqlensWorker({ viaBlob: true });
const splice = { vcf: null, fasta: null, fai: null, gzi: null, model: null, genes: null, result: null, sort: null };

function spliceInputs() {
  const typed = $('splice-typed').value.trim();
  return { typed, ready: Boolean((typed || splice.vcf) && splice.fasta && splice.fai) };
}

function updateSpliceButton() {
  const { typed } = spliceInputs();
  updateButtons();
  const f = splice.fasta;
  $('splice-files').textContent = [splice.vcf, f, splice.fai, splice.gzi].some(Boolean) || typed
    ? `variants: ${typed ? 'typed' : splice.vcf?.name ?? '–'}; reference: ${f ? `${f.name} (${(f.size / 1e6).toFixed(1)} MB)` : '–'}` +
      `, index: ${splice.fai?.name ?? '–'}${splice.gzi ? `, ${splice.gzi.name}` : ''}`
    : '';
}

for (const [id, key] of [['splice-vcf', 'vcf'], ['splice-ref', 'fasta'], ['splice-fai', 'fai'], ['splice-gzi', 'gzi']]) {
  $(id).addEventListener('change', (ev) => {
    splice[key] = ev.target.files[0] ?? null;
    updateSpliceButton();
  });
}
$('splice-typed').addEventListener('input', updateSpliceButton);

/** Loads CI-SpliceAI and the chosen gene table into the splice worker (once per choice). */
async function spliceReady() {
  const model = $('splice-model').value;
  if (splice.model !== model) {
    const bytes = await (await fetch(`../examples/models/cispliceai/${model}`)).arrayBuffer();
    await spliceWorker.load(new Uint8Array(bytes), null, { backend: $('backend').value });
    splice.model = model;
  }
  const choice = $('splice-genes').value;
  const key = choice === 'file' ? $('splice-genes-file').files[0] : choice;
  if (splice.genes !== key) {
    const src = { grch38: '../examples/models/cispliceai/genes_grch38.tsv.gz', grch37: '../examples/models/cispliceai/genes_grch37.tsv.gz',
      example: '../examples/data/splice/genes.csv' }[choice];
    if (choice === 'file' && !key) throw new Error('choose a gene table file (cispliceai CSV, GTF or a seqlens table)');
    const bytes = key instanceof File ? key : new Uint8Array(await (await fetch(src)).arrayBuffer());
    await spliceWorker.loadGenes(bytes, key instanceof File ? key.name : `${choice} genes`);
    splice.genes = key;
  }
}

$('splice-genes').addEventListener('change', () => {
  if ($('splice-genes').value === 'file') $('splice-genes-file').click();
});

async function loadSpliceExample() {
  const get = async (p, name) => new File([await (await fetch(`../examples/data/splice/${p}`)).arrayBuffer()], name);
  splice.vcf = await get('variants.vcf', 'variants.vcf');
  splice.fasta = await get('genome.fa.gz', 'genome.fa.gz');
  splice.fai = await get('genome.fa.gz.fai', 'genome.fa.gz.fai');
  splice.gzi = await get('genome.fa.gz.gzi', 'genome.fa.gz.gzi');
  $('splice-genes').value = 'example';
  updateSpliceButton();
  return busy('Loading CI-SpliceAI', () => spliceReady(), { section: 'splice' });
}
$('splice-example').addEventListener('click', loadSpliceExample);

$('splice-score').addEventListener('click', async () => {
  const { typed } = spliceInputs();
  const variants = typed ? typed.split(/[,;\n]+/).join('\n') : splice.vcf;
  const options = {
    distance: Number($('splice-distance').value) || 1000,
    mask: $('splice-mask').checked,
    outside: $('splice-outside').checked,
    includeTracks: true,
  };
  const r = await busy('Scoring splice variants', async (signal, onProgress) => {
    await spliceReady();
    return spliceWorker.scoreSplice(variants, { fasta: splice.fasta, fai: splice.fai, gzi: splice.gzi ?? undefined }, options, { signal, onProgress });
  }, { section: 'splice', unit: 'alleles' });
  if (!r) {
    splice.result = null;
    $('splice-results').hidden = true;
    return;
  }
  splice.result = r;
  splice.sort = null;
  renderSplice();
});

const SPLICE_COLS = ['variant', 'gene', 'DS_AG', 'DS_AL', 'DS_DG', 'DS_DL', 'DP_AG', 'DP_AL', 'DP_DG', 'DP_DL', 'status'];

const spliceTable = pagedTable('splice-table', 'splice-pager');

function renderSplice() {
  const rows = splice.result.alleles.map((a, i) => ({ a, i, best: a.most_significant === null ? null : a.annotations[a.most_significant] }));
  if (splice.sort) {
    const { col, desc } = splice.sort;
    const key = (r) => (r.best ? [r.best.ds_ag, r.best.ds_al, r.best.ds_dg, r.best.ds_dl, r.best.dp_ag, r.best.dp_al, r.best.dp_dg, r.best.dp_dl][col - 2] : -Infinity);
    rows.sort((x, y) => (key(x) - key(y)) * (desc ? -1 : 1));
  }
  // Only the score and position columns sort, and only they look and act sortable.
  const head = SPLICE_COLS.map((h, i) => (i < 2 || i > 9 ? `<th scope="col">${h}</th>` : sortableHeader(h, i, splice.sort))).join('');
  spliceTable.show(rows, head, ({ a, i, best }) => {
    const ds = best ? [best.ds_ag, best.ds_al, best.ds_dg, best.ds_dl].map((v) => `<td${v >= 0.5 ? ' class="hi"' : ''}>${v.toFixed(2)}</td>`).join('') : '<td></td>'.repeat(4);
    const dp = best ? [best.dp_ag, best.dp_al, best.dp_dg, best.dp_dl].map((v) => `<td>${v}</td>`).join('') : '<td></td>'.repeat(4);
    const status = a.status === 'ok' ? (a.message ? 'ok (N-padded)' : 'ok') : a.status;
    return `<tr data-row="${i}" title="${escape(a.message)}"${a.status === 'ok' ? ` tabindex="0" aria-label="show the tracks of ${escape(`${a.chrom}:${a.pos} ${a.ref}>${a.alt}`)}"` : ''}><td>${escape(`${a.chrom}:${a.pos} ${a.ref}>${a.alt}${a.id ? ` (${a.id})` : ''}`)}</td>` +
      `<td>${escape(best ? best.gene : '')}</td>${ds}${dp}<td class="${a.status === 'ok' ? '' : 'bad'}">${escape(status)}</td></tr>`;
  });
  const ok = splice.result.alleles.filter((a) => a.status === 'ok').length;
  $('splice-summary').textContent = `${splice.result.alleles.length.toLocaleString()} alleles, ${ok.toLocaleString()} scored (distance ${splice.result.options.distance}${splice.result.options.mask ? ', masked' : ''}).`;
  $('splice-results').hidden = false;
}

$('splice-table').addEventListener('click', async (ev) => {
  const th = ev.target.closest('th');
  if (th && splice.result) {
    const col = Number(th.dataset.col ?? -1);
    if (col < 2 || col > 9) return;
    splice.sort = nextSort(splice.sort, col);
    renderSplice();
    focusHeader('splice-table', col);
    return;
  }
  const tr = ev.target.closest('tbody tr');
  if (!tr) return;
  const a = splice.result.alleles[Number(tr.dataset.row)];
  if (a.status !== 'ok') return;
  for (const x of $('splice-table').querySelectorAll('tr.selected')) x.classList.remove('selected');
  tr.classList.add('selected');
  $('splice-figure').innerHTML = await spliceWorker.spliceFigureSvg(a, a.annotations[a.most_significant]);
});

$('splice-download-vcf').addEventListener('click', () => download('splice_scores.vcf', splice.result.vcf, 'text/plain'));
$('splice-download-tsv').addEventListener('click', () => download('splice_scores.tsv', splice.result.tsv, 'text/tab-separated-values'));

// The real model first: the example variants scored with CI-SpliceAI, in one click.
$('try-splice').addEventListener('click', async () => {
  $('splice-section').scrollIntoView({ behavior: 'smooth' });
  $('splice-typed').value = '';
  await loadSpliceExample();
  if (!$('splice-score').disabled) $('splice-score').click();
});

// ---- files: pickers and drag-and-drop ----------------------------------------------------

/** Puts sequence files into the sequence box. One plain file goes in as it is, so that a
 * message about it names its own lines; gzip, or several files, are read by the worker (which
 * names the file of any error) and go in as their records. */
async function readSequenceFiles(files) {
  showError('input', null);
  const texts = [];
  for (const f of files) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    if (files.length === 1 && !(bytes[0] === 0x1f && bytes[1] === 0x8b)) {
      texts.push(new TextDecoder().decode(bytes));
    } else {
      const recs = await worker.parseFasta(bytes, f.name);
      texts.push(recs.map((r) => `>${r.id}\n${r.seq}`).join('\n'));
    }
  }
  $('fasta').value = texts.join('\n');
  inputName = files.map((f) => f.name).join(', ');
}

function dropZone(id, onFiles) {
  const zone = $(id);
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    if (ev.dataTransfer.files.length) onFiles([...ev.dataTransfer.files]);
  });
}

$('backend').addEventListener('change', () => current && useModel(current.bytes, current.name, current.about));

const loadModelFile = async (f) => useModel(new Uint8Array(await f.arrayBuffer()), f.name);
dropZone('model-drop', (files) => loadModelFile(files[0]));
dropZone('seq-drop', (files) => readSequenceFiles(files).catch((e) => showError('input', e)));
$('model-file').addEventListener('change', (ev) => ev.target.files[0] && loadModelFile(ev.target.files[0]));
$('seq-file').addEventListener('change', (ev) => readSequenceFiles([...ev.target.files]).catch((e) => showError('input', e)));
async function loadSample() {
  $('fasta').value = await (await fetch('../examples/data/sample.fa')).text();
  inputName = 'sample.fa';
}
$('load-sample').addEventListener('click', loadSample);
$('fasta').addEventListener('input', () => {
  inputName = 'the sequence box';
});
// The file pickers are real buttons (reachable and pressed from the keyboard) that open
// hidden file inputs.
for (const [button, input] of [['model-choose', 'model-file'], ['seq-choose', 'seq-file']]) {
  $(button).addEventListener('click', () => $(input).click());
}

// One click from an empty page to predictions and a logo, for newcomers.
// It explains a confident hit: SPI1 on spi1_short (0.99 for the bundled model).
$('run-demo').addEventListener('click', async () => {
  await loadSample();
  $('stride').value = '';
  $('predict').click();
  await new Promise((/** @type {(v?: unknown) => void} */ ok) => {
    const t = setInterval(() => {
      if (!running) {
        clearInterval(t);
        ok();
      }
    }, 50);
  });
  if (!result) return;
  const row = result.windows.findIndex((w) => w.id === 'spi1_short');
  const label = info.metadata.labels.indexOf('SPI1');
  $('explain-seq').value = String(Math.max(0, row));
  $('explain-label').value = String(Math.max(0, label));
  await explain();
  $('explain-section').scrollIntoView({ behavior: 'smooth' });
});

// ---- start -------------------------------------------------------------------------------

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').then(
    () => navigator.serviceWorker.ready.then(() => {
      $('offline').textContent = 'After this first visit the page also works offline.';
    }),
    () => {},
  );
}

const bytes = await fetch('../examples/models/demo.onnx').then((r) => r.arrayBuffer()).catch(() => null);
if (bytes) await useModel(new Uint8Array(bytes), 'demo.onnx (bundled)', BUNDLED_ABOUT);
else $('model-info').textContent = 'The bundled model could not be fetched; choose a model file.';
