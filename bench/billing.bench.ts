/**
 * Stripe provisioning under a burst (issue 4): 5,000 signed webhook events (2,500 subscriptions,
 * each `customer.subscription.created` then `invoice.paid`) posted with 50 concurrent senders
 * to a server in this process, applied by a billing worker in this process, on embedded Redis
 * and MongoDB-wire servers started here. Figures: events accepted per second (signature check,
 * store, enqueue, answer), and the time from acceptance to the license being updated (the
 * event's `processedAt` minus its `receivedAt`), p50 and p99, with the time to drain the burst.
 *
 * Alone: `node --import tsx bench/billing.bench.ts` (BILLING_BENCH_EVENTS changes the burst,
 * BILLING_BENCH_CONCURRENCY the worker's concurrency, BILLING_BENCH_WORKER=0 leaves the worker out).
 */
import { randomBytes } from 'node:crypto';

import { pino } from 'pino';
import Stripe from 'stripe';

import { startLocalServices } from '../embedded/local-services.js';
import { loadPlanCatalogue } from '../lib/plans/plan-catalogue.js';
import { MongoStripeEventStore } from '../lib/store/mongo-stripe-event-store.js';
import { isEntryPoint } from '../runtime/process-entry.js';
import { DEFAULT_STRIPE_WEBHOOK_CONFIG } from '../server/config.js';
import { startServer } from '../server/main.js';
import { billingServerModule } from '../server/routes/billing-server-module.js';
import { BENCH_SECRETS, benchServerConfig } from './bench-server-config.js';
import { DEFAULT_BILLING_CONFIG } from '../worker/billing/billing-config.js';
import { billingModule } from '../worker/billing/billing-module.js';
import { startWorker } from '../worker/main.js';

const SECRET = 'whsec_bench_secret';
const PRICE = 'price_bench_monthly';
const plans = loadPlanCatalogue({ plans: [{ id: 'bench', rank: 1, limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null }, stripePriceIds: [PRICE] }] });
const secrets = BENCH_SECRETS;

/** One row of the printed table. */
export interface BillingBenchRow {
  readonly figure: string;
  readonly value: string;
}

function burst(count: number): string[] {
  const now = Math.floor(Date.now() / 1000);
  const bodies: string[] = [];
  for (let i = 0; bodies.length < count; i++) {
    const sub = `sub_bench${randomBytes(6).toString('hex')}`;
    const customer = `cus_bench${i}`;
    const end = now + 30 * 86_400;
    const subscription = { id: sub, object: 'subscription', customer, status: 'active', cancel_at_period_end: false, current_period_end: end, trial_end: null, items: { data: [{ price: { id: PRICE } }] } };
    const invoice = { id: `in_${sub.slice(4)}`, object: 'invoice', subscription: sub, customer, customer_email: `b${i}@example.com`, charge: `ch_${sub.slice(4)}`, lines: { data: [{ period: { start: now, end } }] } };
    bodies.push(JSON.stringify({ id: `evt_${randomBytes(8).toString('hex')}`, object: 'event', type: 'customer.subscription.created', created: now, data: { object: subscription } }));
    bodies.push(JSON.stringify({ id: `evt_${randomBytes(8).toString('hex')}`, object: 'event', type: 'invoice.paid', created: now + 1, data: { object: invoice } }));
  }
  return bodies.slice(0, count);
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/** Runs the burst and returns the figures. */
export async function benchBilling(count = 5_000, senders = 50, withWorker = true, concurrency?: number): Promise<BillingBenchRow[]> {
  const services = await startLocalServices({ persistent: false });
  const queuePrefix = 'bench';
  const config = benchServerConfig(services, { mongoDb: 'bench_billing', secrets, plans, queuePrefix, stripe: { ...DEFAULT_STRIPE_WEBHOOK_CONFIG, webhookSecret: SECRET } });
  const logger = pino({ level: 'silent' });
  const server = await startServer(config, { logger, modules: [billingServerModule] });
  const worker = await startWorker(
    {
      redisUrl: services.redisUrl,
      mongoUrl: services.mongoUrl,
      mongoDb: config.mongoDb,
      logLevel: 'silent',
      secrets,
      plans,
      expiryGraceMs: 0,
      events: { streamPrefix: 'bench:events', partitions: 16 },
      queuePrefix,
      billing: { ...DEFAULT_BILLING_CONFIG, ...(concurrency === undefined ? {} : { concurrency }) },
    },
    { modules: withWorker ? [billingModule] : [], logger },
  );
  try {
    const bodies = burst(count);
    const signed = bodies.map((payload) => ({ payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) }));
    let next = 0;
    let refused = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (next < signed.length) {
          const { payload, signature } = signed[next++]!;
          const response = await fetch(`${server.url}/v1/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
          await response.arrayBuffer();
          if (response.status !== 200) refused++;
        }
      }),
    );
    const acceptSeconds = (performance.now() - started) / 1000;
    // Baseline in the same session: the bare MongoDB insert of the same bodies, as concurrent.
    const scratch = worker.context.db.collection<{ _id: string; body: string }>('bench_baseline');
    let nextInsert = 0;
    const baselineStarted = performance.now();
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (nextInsert < bodies.length) {
          const index = nextInsert++;
          await scratch.insertOne({ _id: `b${index}`, body: bodies[index]! });
        }
      }),
    );
    const baselinePerSecond = count / ((performance.now() - baselineStarted) / 1000);
    const events = new MongoStripeEventStore({ db: worker.context.db });
    let pending = count;
    while (withWorker && pending > 0) {
      pending = await events.collection.countDocuments({ status: { $nin: ['processed', 'ignored', 'failed'] } });
      if (pending > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const drainSeconds = (performance.now() - started) / 1000;
    const docs = await events.collection.find({}, { projection: { receivedAt: 1, processedAt: 1, status: 1 } }).toArray();
    const latencies = docs.flatMap((doc) => (doc.processedAt ? [doc.processedAt.getTime() - doc.receivedAt.getTime()] : [])).sort((a, b) => a - b);
    const failed = docs.filter((doc) => doc.status === 'failed').length;
    const licenses = await worker.context.db.collection('licenses').countDocuments({});
    return [
      { figure: 'events posted (2 per subscription)', value: count.toLocaleString('en-US') },
      { figure: 'accepted per second (50 senders)', value: Math.round(count / acceptSeconds).toLocaleString('en-US') },
      { figure: 'baseline: bare MongoDB inserts per second, same bodies', value: Math.round(baselinePerSecond).toLocaleString('en-US') },
      { figure: 'accepted / bare inserts', value: (count / acceptSeconds / baselinePerSecond).toFixed(2) },
      { figure: 'refused answers', value: String(refused) },
      { figure: 'acceptance → license updated, p50 ms', value: String(percentile(latencies, 50)) },
      { figure: 'acceptance → license updated, p99 ms', value: String(percentile(latencies, 99)) },
      { figure: 'burst drained after, s', value: drainSeconds.toFixed(1) },
      { figure: 'applied per second (drain)', value: Math.round(count / drainSeconds).toLocaleString('en-US') },
      { figure: 'events failed', value: String(failed) },
      { figure: 'licenses issued', value: licenses.toLocaleString('en-US') },
    ];
  } finally {
    await worker.stop();
    await server.stop();
    await services.stop();
  }
}

if (isEntryPoint(import.meta.url)) {
  const concurrency = process.env['BILLING_BENCH_CONCURRENCY'];
  console.table(await benchBilling(Number(process.env['BILLING_BENCH_EVENTS'] ?? 5_000), 50, process.env['BILLING_BENCH_WORKER'] !== '0', concurrency === undefined ? undefined : Number(concurrency)));
}
