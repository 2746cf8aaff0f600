// Shared helpers: the golden tables (from onnxruntime, scripts/golden.py) and comparisons.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

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
