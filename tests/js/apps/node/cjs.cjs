// Node, CommonJS: `require` by the package name. Prints the predictions of model argv[2] on
// FASTA argv[3] as JSON.
const { readFileSync } = require('node:fs');
const { Model } = require('seqlens');

(async () => {
  const model = await Model.load(readFileSync(process.argv[2]));
  const p = await model.predict(readFileSync(process.argv[3], 'utf8'));
  console.log(JSON.stringify({ ids: p.ids, labels: p.labels, shape: p.shape, values: Array.from(p.values) }));
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
