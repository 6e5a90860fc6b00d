/**
 * Webhook deliveries per second to a local receiver (issue 17), beside a baseline from the
 * same run: bare HTTP POSTs of a body of the same size from this process, through the same
 * kind of keep-alive agent with as many requests at once as the dispatcher sends to one
 * endpoint. The webhook path adds, per event: the relay from the license document to the
 * outbox, the fan-out into a delivery, an atomic claim, the SSRF check, signing, and the settle
 * write. MongoDB-wire is the embedded one; the receiver (answering 204) runs in this process.
 *
 * Alone: `node --import tsx bench/webhooks.bench.ts` (BENCH_WEBHOOK_COUNT events, default 2,000).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { MongoClient } from 'mongodb';
import { pino } from 'pino';

import { startLocalServices } from '../embedded/local-services.js';
import { createKeyCipher } from '../lib/keys/key-cipher.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { MongoWebhookEndpointStore } from '../lib/store/mongo-webhook-endpoint-store.js';
import { MongoWebhookOutbox } from '../lib/store/mongo-webhook-outbox.js';
import { MongoWebhookRelay } from '../lib/store/mongo-webhook-relay.js';
import { isEntryPoint } from '../runtime/process-entry.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue } from '../server/config.js';
import { WebhookDispatcher } from '../worker/webhooks/webhook-dispatcher.js';
import { createWebhookSender } from '../worker/webhooks/webhook-sender.js';

/** One row of the printed table. */
export interface WebhookBenchRow {
  readonly benchmark: string;
  readonly 'deliveries/s': string;
  readonly ratio: string;
}

const CONCURRENCY = 4;
const ENCRYPTION = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const rate = (count: number, ms: number) => (count * 1000) / ms;
const round = (n: number) => Math.round(n).toLocaleString('en-US');

async function startReceiver(): Promise<{ url: string; received: () => number; bytes: () => number; close: () => Promise<void> }> {
  let received = 0;
  let bytes = 0;
  const server = http.createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      received++;
      response.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hooks`,
    received: () => received,
    bytes: () => bytes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Bare POSTs of `body`, `CONCURRENCY` at once over keep-alive. */
async function barePosts(url: string, body: string, count: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(url);
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(
        { hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (response) => {
          response.resume();
          response.on('end', resolve);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) await post();
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  return ms;
}

/** Runs the webhook benchmark with `count` events per measurement. */
export async function benchWebhooks(count = 2_000): Promise<WebhookBenchRow[]> {
  const services = await startLocalServices({ persistent: false });
  const mongo = await new MongoClient(services.mongoUrl).connect();
  const receiver = await startReceiver();
  try {
    const db = mongo.db('bench_webhooks');
    await db.dropDatabase();
    const keyward = await createKeyward({ db, plans: readPlanCatalogue(DEFAULT_PLANS_FILE), secrets: { digest: 'bench-digest-secret-0123456789abcdefghijklmnop', encryption: ENCRYPTION } });
    const endpoints = new MongoWebhookEndpointStore({ db, cipher: createKeyCipher(ENCRYPTION) });
    const outbox = new MongoWebhookOutbox({ db });
    const relay = new MongoWebhookRelay({ db, outbox });
    await outbox.ensureIndexes();
    await relay.ensureIndexes();
    await endpoints.create({ url: receiver.url }, new Date());
    const planId = keyward.plans.plans[0]?.id ?? 'pro';
    // The events: one license.created per license, recorded on the license documents.
    const issued = await keyward.licenses.issueMany(count, { planId });
    if (!issued.ok) throw new Error(issued.refusal.message);

    // A body like the deliveries' (a license.created payload), for the baseline.
    const sample = await outbox.pendingFanOut(1);
    await relay.relay(new Date(), 1);
    const [event] = await outbox.pendingFanOut(1);
    const body = JSON.stringify({ id: 'evt_sample', type: 'license.created', timestamp: new Date().toISOString(), data: event?.data ?? sample[0]?.data ?? {} });
    const bareMs = await barePosts(receiver.url, body, count);
    const bareReceived = receiver.received();

    const sender = createWebhookSender({ policy: { allowLoopback: true, allowPrivate: false }, maxSockets: CONCURRENCY });
    const dispatcher = new WebhookDispatcher({ endpoints, outbox, relay, send: sender.send, logger: pino({ level: 'silent' }), concurrencyPerEndpoint: CONCURRENCY });
    const started = performance.now();
    await dispatcher.drain();
    const webhookMs = performance.now() - started;
    sender.close();
    const delivered = receiver.received() - bareReceived;
    if (delivered !== count) throw new Error(`delivered ${delivered} of ${count}`);
    await keyward.close();
    await db.dropDatabase();

    const baseline = rate(count, bareMs);
    const webhooks = rate(count, webhookMs);
    return [
      { benchmark: `bare HTTP POST, ${CONCURRENCY} at once, keep-alive, ${body.length}-byte body (baseline)`, 'deliveries/s': round(baseline), ratio: '1.00' },
      { benchmark: `webhooks: relay, fan-out, claim, SSRF check, sign, POST, settle (${CONCURRENCY} at once, one endpoint)`, 'deliveries/s': round(webhooks), ratio: (webhooks / baseline).toFixed(2) },
    ];
  } finally {
    await receiver.close();
    await mongo.close();
    await services.stop();
  }
}

if (isEntryPoint(import.meta.url)) {
  console.table(await benchWebhooks(Number(process.env['BENCH_WEBHOOK_COUNT'] ?? 2_000)));
}
