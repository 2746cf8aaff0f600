// Node, ES modules: `import` by the package name. Prints the predictions of model argv[2] on
// FASTA argv[3] as JSON.
import { readFileSync } from 'node:fs';
import { Model } from 'seqlens';

const model = await Model.load(readFileSync(process.argv[2]));
const p = await model.predict(readFileSync(process.argv[3], 'utf8'));
console.log(JSON.stringify({ ids: p.ids, labels: p.labels, shape: p.shape, values: Array.from(p.values) }));
