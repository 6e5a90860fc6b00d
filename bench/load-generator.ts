/**
 * Child process that generates load with autocannon and prints one JSON result on stdout.
 * Run by bench/autocannon-run.ts with the path of a JSON options file:
 * `{ url, bodies: string[], connections, durationSeconds, overallRate? }`. Each request takes the
 * next body in turn, so a run can hit one cached key or thousands of different ones.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

interface GeneratorOptions {
  readonly url: string;
  readonly bodies: readonly string[];
  readonly connections: number;
  readonly durationSeconds: number;
  readonly overallRate?: number;
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: load-generator.ts <options.json>');
const options = JSON.parse(readFileSync(file, 'utf8')) as GeneratorOptions;
let next = 0;
const result = await autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.durationSeconds,
  ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => ({ ...request, body: options.bodies[next++ % options.bodies.length] ?? '' }),
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }),
);
