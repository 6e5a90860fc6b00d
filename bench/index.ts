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

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
console.log(`\nValidate route (server in this process on embedded Redis and MongoDB-wire; throughput: autocannon in a child, 50 connections, 3 alternating rounds; latency: vegeta at a constant rate, 2 rounds; ${seconds} s per run):`);
// Imported only now: loading the server's modules first measurably slowed the key loops above.
const { benchHttp } = await import('./http.bench.js');
const http = await benchHttp(seconds);
console.table(http.rows);
console.log('\nMemory with 100,000 licenses cached:');
console.table(http.memory);

const manyKeys = Number(process.env['BENCH_LICENSES'] ?? 1_000_000);
console.log(`\nValidate with many keys (${manyKeys.toLocaleString('en-US')} licenses issued in bulk, Zipf s = 1 keys, default cache, the server in a process of its own; beside a bare Koa route and a bare findOne loop on the same server, 50 concurrent, ${seconds} s per run):`);
const { benchManyKeys } = await import('./many-keys.bench.js');
console.table(await benchManyKeys({ licenses: manyKeys, durationSeconds: seconds }));
console.log('\nEvery core: N server processes (server/cluster.ts) against N bare Koa processes, one cached key, 3 alternating rounds:');
const { benchCluster } = await import('./cluster.bench.js');
console.table(await benchCluster(seconds));

console.log('\nAbuse cases and reports, pure (one core):');
const { benchCasesPure, benchCasesStore } = await import('./cases.bench.js');
console.table(await benchCasesPure());
console.log('\nCase roll-up on the embedded MongoDB-wire server:');
console.table(await benchCasesStore());
const mailCount = Number(process.env['BENCH_MAIL_COUNT'] ?? 1_000);
console.log(`\nE-mail (outbox sender to an SMTP server in this process, ${mailCount.toLocaleString('en-US')} e-mails per run, 4 connections):`);
const { benchMail } = await import('./mail.bench.js');
console.table(await benchMail(mailCount));
console.log('\nAbuse stream consumption (one worker process, embedded redis-server, 16 partitions):');
const { benchAbuseStream } = await import('./abuse-stream.bench.js');
console.table(await benchAbuseStream());
console.log('\nAbuse detector (real Redis and MongoDB-wire started here; batches of 500 events over 10,000 licenses):');
const { benchAbuseRules } = await import('./abuse-rules.bench.js');
console.table(await benchAbuseRules());
console.log('\nStripe webhook burst (server and billing worker in this process on embedded Redis and MongoDB-wire; 5,000 signed events, 50 senders):');
const { benchBilling } = await import('./billing.bench.js');
console.table(await benchBilling(Number(process.env['BILLING_BENCH_EVENTS'] ?? 5_000)));
console.log('\nAbuse worker: stream consumer + AbuseDetector (embedded redis-server and MongoDB-wire, 16 partitions, 10,000 licenses):');
const { benchAbuseWorker } = await import('./abuse-worker.bench.js');
console.table(await benchAbuseWorker());
console.log('\nAbuse workers: N worker processes draining a pre-filled backlog (embedded redis-server and MongoDB-wire, 16 partitions, 10,000 licenses):');
const { benchAbuseWorkers } = await import('./abuse-workers.bench.js');
console.table(await benchAbuseWorkers());
const webhookCount = Number(process.env['BENCH_WEBHOOK_COUNT'] ?? 2_000);
console.log(`\nWebhooks (dispatcher to a receiver in this process, embedded MongoDB-wire, ${webhookCount.toLocaleString('en-US')} license.created events, one endpoint):`);
const { benchWebhooks } = await import('./webhooks.bench.js');
console.table(await benchWebhooks(webhookCount));
