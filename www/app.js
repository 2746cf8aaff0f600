// The analysis page: loads the seqlens npm package (built into ../pkg), a model, and
// sequences from a file or the text box, then shows and exports predictions. No request
// leaves this origin: the model and the sequences are read locally.
import { init, Model } from '../pkg/index.js';

const $ = (id) => document.getElementById(id);
let model = null;
let result = null;
let sort = { col: -1, desc: true };

function showError(e) {
  const box = $('error');
  box.textContent = e ? String(e.message ?? e) : '';
  box.hidden = !e;
}

async function useModel(bytes, name) {
  showError(null);
  try {
    const m = await Model.load(bytes);
    model?.free();
    model = m;
    const info = model.info();
    const md = info.metadata;
    $('model-info').textContent =
      `${name}: ${info.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ')}\n` +
      `alphabet ${md.alphabet}, layout ${md.layout}, length ${md.length ?? 'any'}, N policy ${md.n_policy}` +
      `${md.task ? `, task ${md.task}` : ''}\n` +
      `labels: ${md.labels.join(', ')}\n` +
      `${info.parameters.toLocaleString()} parameters; ops ${Object.entries(info.ops).map(([k, v]) => `${k}×${v}`).join(' ')}\n` +
      `backend: CPU (WebAssembly, SIMD)`;
    $('predict').disabled = false;
  } catch (e) {
    $('model-info').textContent = `${name}: could not be loaded.`;
    showError(e);
  }
}

function render() {
  const table = $('results');
  const [n, k] = result.shape;
  let rows = [...Array(n).keys()];
  if (sort.col >= 0) {
    rows.sort((a, b) => (result.values[a * k + sort.col] - result.values[b * k + sort.col]) * (sort.desc ? -1 : 1));
  }
  const head = ['id', 'start', 'end', ...result.labels]
    .map((h, i) => `<th data-col="${i - 3}">${escape(h)}${sort.col >= 0 && i - 3 === sort.col ? (sort.desc ? ' ▼' : ' ▲') : ''}</th>`)
    .join('');
  const body = rows
    .map((r) => {
      const w = result.windows[r];
      const cells = Array.from({ length: k }, (_, j) => {
        const v = result.values[r * k + j];
        return `<td${v >= 0.5 ? ' class="hi"' : ''}>${v.toFixed(3)}</td>`;
      }).join('');
      return `<tr><td>${escape(w.id)}</td><td>${w.start}</td><td>${w.end}</td>${cells}</tr>`;
    })
    .join('');
  table.innerHTML = `<thead><tr>${head}</tr></thead><tbody>${body}</tbody>`;
  $('summary').textContent = `${n} sequences × ${k} labels.`;
  $('results-section').hidden = false;
}

function escape(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

// Same columns as `seqlens predict --out preds.tsv`.
function toTsv(r) {
  const [n, k] = r.shape;
  const lines = [['id', 'chrom', 'start', 'end', ...r.labels].join('\t')];
  for (let i = 0; i < n; i++) {
    const w = r.windows[i];
    lines.push([w.id, w.chrom, w.start, w.end, ...r.values.subarray(i * k, (i + 1) * k)].join('\t'));
  }
  return lines.join('\n') + '\n';
}

function download(name, text, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

$('predict').addEventListener('click', async () => {
  showError(null);
  const stride = Number($('stride').value) || undefined;
  try {
    result = await model.predict($('fasta').value, { rcAverage: $('rc-average').checked, stride });
    sort = { col: -1, desc: true };
    render();
  } catch (e) {
    showError(e);
  }
});

$('results').addEventListener('click', (ev) => {
  const th = ev.target.closest('th');
  if (!th || !result) return;
  const col = Number(th.dataset.col);
  if (col < 0) return;
  sort = { col, desc: sort.col === col ? !sort.desc : true };
  render();
});

$('download-tsv').addEventListener('click', () => download('predictions.tsv', toTsv(result), 'text/tab-separated-values'));
$('download-json').addEventListener('click', () => {
  const [, k] = result.shape;
  const rows = result.windows.map((w, i) => ({ ...w, values: Array.from(result.values.subarray(i * k, (i + 1) * k)) }));
  download('predictions.json', JSON.stringify({ labels: result.labels, rows }, null, 1), 'application/json');
});

$('model-file').addEventListener('change', async (ev) => {
  const f = ev.target.files[0];
  if (f) await useModel(new Uint8Array(await f.arrayBuffer()), f.name);
});

$('seq-file').addEventListener('change', async (ev) => {
  const f = ev.target.files[0];
  if (!f) return;
  const bytes = new Uint8Array(await f.arrayBuffer());
  // Gzip is inflated by seqlens itself; show text files as they are.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      const recs = (await import('../pkg/index.js')).parseFasta(bytes, f.name);
      $('fasta').value = recs.map((r) => `>${r.id}\n${r.seq}`).join('\n');
    } catch (e) {
      showError(e);
    }
  } else {
    $('fasta').value = new TextDecoder().decode(bytes);
  }
});

$('load-sample').addEventListener('click', async () => {
  $('fasta').value = await (await fetch('../examples/data/sample.fa')).text();
});

try {
  await init();
  const bytes = new Uint8Array(await (await fetch('../examples/models/demo.onnx')).arrayBuffer());
  await useModel(bytes, 'demo.onnx (bundled)');
} catch (e) {
  $('model-info').textContent = 'seqlens could not start.';
  showError(e);
}
