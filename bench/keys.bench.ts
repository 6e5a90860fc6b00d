/**
 * Key generation and parsing, each beside `crypto.randomUUID()` measured in the same run.
 * Goals (issue 2): generation at least 0.5x randomUUID's rate; parsing at least 1,000,000
 * keys per second on one core.
 */
import { randomUUID } from 'node:crypto';
import { generateKey, generateKeys, parseKey } from '../lib/index.js';
import { measureBatches } from './batch-bench.js';

/** One row of the printed table. */
export interface BenchRow {
  readonly benchmark: string;
  readonly 'ops/s': string;
  readonly baseline: string;
  readonly ratio: string;
  readonly goal: string;
  readonly met: string;
}

const format = (n: number) => Math.round(n).toLocaleString('en-US');

/** Runs the key benchmarks and returns their table rows. */
export async function benchKeys(): Promise<BenchRow[]> {
  const keys = generateKeys(1024);
  const typed = keys.map((key) => key.toLowerCase().replaceAll('-', ' '));
  let k = 0;
  const rates = await measureBatches([
    { name: 'randomUUID', run: () => randomUUID() },
    { name: 'generateKey', run: () => generateKey() },
    { name: 'parseKey canonical', run: () => parseKey(keys[k++ & 1023]).ok },
    { name: 'parseKey typed', run: () => parseKey(typed[k++ & 1023]).ok },
  ]);
  const uuid = rates.get('randomUUID') ?? Number.NaN;
  const generate = rates.get('generateKey') ?? Number.NaN;
  const rows: BenchRow[] = [
    { benchmark: 'crypto.randomUUID()', 'ops/s': format(uuid), baseline: '-', ratio: '1.00', goal: '-', met: '-' },
    {
      benchmark: 'generateKey()',
      'ops/s': format(generate),
      baseline: 'randomUUID',
      ratio: (generate / uuid).toFixed(2),
      goal: '>= 0.5x',
      met: generate / uuid >= 0.5 ? 'yes' : 'NO',
    },
  ];
  for (const name of ['parseKey canonical', 'parseKey typed']) {
    const rate = rates.get(name) ?? Number.NaN;
    rows.push({
      benchmark: name,
      'ops/s': format(rate),
      baseline: 'randomUUID',
      ratio: (rate / uuid).toFixed(2),
      goal: '>= 1,000,000/s',
      met: rate >= 1_000_000 ? 'yes' : 'NO',
    });
  }
  return rows;
}
