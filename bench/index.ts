/**
 * `npm run bench`: every benchmark of the project, printed as a table. Figures are ratios
 * against a baseline measured in the same process, so that a noisy machine moves both.
 * Copy the table into docs/benchmarks.md with the date and machine when figures change.
 */
import { cpus } from 'node:os';
import { benchKeys } from './keys.bench.js';

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`Keyward benchmarks — Node ${process.version}, ${cpus().length} cores, ${cpu}`);
console.log('\nKeys (single core, batches of 10,000 calls):');
console.table(await benchKeys());
