/**
 * Load generators (autocannon, vegeta) run at a lower CPU priority than the server under test:
 * `nice -n 10` by default, set before the generator starts so that all its threads have it.
 *
 * Why: here the server, the generator and Redis share 2 cores. At equal priority the scheduler
 * lets the generator keep a core that the server is waiting for, for a timeslice of several ms,
 * and that wait lands in every route's p99, the bare baseline's included (measured at 8,000/s
 * constant: the bare route's p99 3.6-3.7 ms with the generator at nice 10, 5-12 ms at equal
 * priority in the same hour; docs/benchmarks.md, Session 4). In production clients run on
 * other machines. A generator that falls behind because of its lower priority shows it: the
 * constant-rate runs report the rate actually sent, and the latency goal counts as met only
 * when it was sent in full.
 *
 * `BENCH_GENERATOR_NICENESS=0` runs the generators at the server's priority (the method before
 * session 4), for comparison.
 */
import { ConfigurationError } from '../lib/errors/keyward-error.js';

/** The niceness load generators run at: `BENCH_GENERATOR_NICENESS`, default 10. */
export function generatorNiceness(env: NodeJS.ProcessEnv = process.env): number {
  const text = env['BENCH_GENERATOR_NICENESS'];
  if (text === undefined || text === '') return 10;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 19) {
    throw new ConfigurationError('BENCH_GENERATOR_NICENESS', `must be an integer from 0 to 19, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** The command and arguments that run `command` at the generators' niceness (`nice`, from coreutils). */
export function atGeneratorPriority(command: string, args: readonly string[], niceness = generatorNiceness()): [string, string[]] {
  return niceness === 0 ? [command, [...args]] : ['nice', ['-n', String(niceness), command, ...args]];
}
