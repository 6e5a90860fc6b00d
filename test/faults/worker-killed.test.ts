/**
 * Fault: the worker process is SIGKILLed in the middle of a billing job, a mail send and a
 * report build (its Stripe API and SMTP server hold their calls open, and its MongoDB connection
 * runs through a proxy that stops forwarding, so the kill lands mid-job), then a new worker
 * process starts.
 *
 * Kept: the Stripe event and the e-mail, stored before the kill; the license issued once.
 * Degrades: both wait for the new worker: the e-mail until its send lease (2 s here, 2 min by
 * default) runs out, the billing job until BullMQ finds it stalled (its lock, 30 s) or the
 * billing sweep re-queues the unprocessed event.
 * Back: each completes exactly once: one license for the subscription, one message received
 * for the e-mail, the event `processed`, the report `ready` (one report, one job run to the end).
 */
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';

import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { REPORT_QUEUE } from '../../lib/abuse/report-jobs.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import { DEFAULT_STRIPE_WEBHOOK_CONFIG } from '../../server/config.js';
import { serverWiring } from '../../server/main.js';
import { mongoUrl, redisUrl } from '../setup/services.js';
import { runEntryPoint } from '../support/entry-point.js';
import { TEST_SECRETS } from '../support/keyward-fixture.js';
import { startTestServer } from '../support/server-fixture.js';
import { startSmtpServer } from '../support/smtp-test-server.js';
import { BILLING_TEST_PLANS, checkoutCompleted, newStripeIds, postWebhook, PRICES, subscriptionEvent, TEST_WEBHOOK_SECRET } from '../support/stripe-events.js';
import type { FaultWorkerSettings } from './worker-process.js';
import { until } from './own-services.js';

/** A TCP server that takes connections and never answers past `greeting`: a call held open. */
async function holdingServer(greeting: string | null): Promise<{ port: number; connected: Promise<void> }> {
  const sockets: Socket[] = [];
  let connected: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (connected = resolve));
  const server = greeting === null
    ? createHttpServer(() => connected())
    : createTcpServer((socket) => {
        sockets.push(socket);
        socket.on('error', () => undefined);
        socket.write(greeting);
        connected();
      });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => {
    for (const socket of sockets) socket.destroy();
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, connected: first };
}

/** A TCP proxy to MongoDB that can stop forwarding what the client sends: queries then hang. */
async function pausableProxy(target: string): Promise<{ url: string; pause(): void }> {
  const { hostname, port } = new URL(target.replace(/^mongodb:/, 'http:'));
  const clients: Socket[] = [];
  let paused = false;
  const proxy = createTcpServer((client) => {
    clients.push(client);
    const upstream = connect(Number(port), hostname);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    if (paused) client.pause();
    client.pipe(upstream);
    upstream.pipe(client);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  onTestFinished(() => {
    for (const client of clients) client.destroy();
    proxy.close();
  });
  return {
    url: `mongodb://127.0.0.1:${(proxy.address() as AddressInfo).port}/?directConnection=true`,
    pause() {
      paused = true;
      for (const client of clients) {
        client.unpipe();
        client.pause();
      }
    },
  };
}

describe('fault: the worker process killed mid-job', () => {
  it('completes the billing job, the mail send and the report build exactly once after a new worker starts', { timeout: 180_000 }, async () => {
    const plans = loadPlanCatalogue(BILLING_TEST_PLANS);
    const server = await startTestServer(
      { plans, stripe: { ...DEFAULT_STRIPE_WEBHOOK_CONFIG, webhookSecret: TEST_WEBHOOK_SECRET, jobAttempts: 8, jobBackoffMs: 200 } },
      serverWiring,
    );
    const stripeApi = await holdingServer(null);
    const smtpHold = await holdingServer('220 held.example ESMTP\r\n');
    const smtp = await startSmtpServer();
    const settings = (overrides: Partial<FaultWorkerSettings>): Record<string, string> => ({
      KEYWARD_FAULT_WORKER: JSON.stringify({
        redisUrl: redisUrl(),
        mongoUrl: mongoUrl(),
        mongoDb: server.config.mongoDb,
        queuePrefix: server.config.queuePrefix,
        plans: BILLING_TEST_PLANS,
        secrets: TEST_SECRETS,
        smtpUrl: smtp.url,
        stripeApi: null,
        ...overrides,
      } satisfies FaultWorkerSettings),
    });

    const mongoProxy = await pausableProxy(mongoUrl());
    const first = runEntryPoint('test/faults/worker-process.ts', settings({ mongoUrl: mongoProxy.url, smtpUrl: `smtp://127.0.0.1:${smtpHold.port}`, stripeApi: { apiKey: 'sk_test_fault', host: '127.0.0.1', port: stripeApi.port, protocol: 'http' } }));
    await first.waitFor('worker ready');

    // A mail send in flight: a manual license e-mailed to its owner.
    const client = await new MongoClient(server.config.mongoUrl).connect();
    onTestFinished(() => client.close());
    const db = client.db(server.config.mongoDb);
    const { token } = await createAdminToken(new MongoAdminTokenStore({ db }), { name: 'ops', scope: 'write' }, new Date());
    const created = await fetch(`${server.url}/v1/admin/licenses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ planId: 'pro', email: 'grace@example.com' }),
    });
    expect(created.status).toBe(201);
    // A billing job in flight: Checkout names the subscription only, so the job asks the Stripe API.
    const ids = newStripeIds();
    const checkout = checkoutCompleted(ids, new Date());
    expect((await postWebhook(server.url, checkout)).status).toBe(200);
    await Promise.all([smtpHold.connected, stripeApi.connected]);
    // A report build in flight: the worker takes the job (from Redis), then its reads of MongoDB hang.
    mongoProxy.pause();
    const report = await fetch(`${server.url}/v1/admin/reports`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(report.status).toBe(202);
    const { id: reportId } = (await report.json()) as { id: string };
    const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    onTestFinished(() => void connection.disconnect());
    const reportQueue = new Queue(REPORT_QUEUE, { connection, prefix: server.config.queuePrefix });
    onTestFinished(() => reportQueue.close());
    await until(async () => (await reportQueue.getJobState(reportId)) === 'active', 'the report job to start');

    first.child.kill('SIGKILL');
    expect((await first.ended).signal).toBe('SIGKILL');

    // The subscription's own event arrives while no worker runs; then a new worker starts.
    const created2 = subscriptionEvent('created', { id: ids.subscription, customer: ids.customer, price: PRICES.pro, status: 'active', periodStart: new Date(), periodEnd: new Date(Date.now() + 30 * 86_400_000) }, new Date());
    expect((await postWebhook(server.url, created2)).status).toBe(200);
    const second = runEntryPoint('test/faults/worker-process.ts', settings({}));
    await second.waitFor('worker ready');

    await until(async () => (await db.collection('email_outbox').countDocuments({ to: 'grace@example.com', status: 'sent' })) === 1, 'the e-mail', 2_400);
    expect(smtp.received.filter((mail) => mail.envelopeTo.includes('grace@example.com'))).toHaveLength(1);

    await until(async () => (await db.collection('stripe_events').findOne({ _id: checkout.id as never }))?.['status'] === 'processed', 'the interrupted billing job', 2_400);
    expect(await db.collection('licenses').countDocuments({ stripeSubscriptionId: ids.subscription })).toBe(1);
    await until(async () => (await db.collection('email_outbox').countDocuments({ to: ids.email, status: 'sent' })) >= 1, 'the key e-mail of the subscription', 2_400);
    expect(smtp.received.filter((mail) => mail.envelopeTo.includes(ids.email))).toHaveLength(1);
    await until(async () => (await db.collection('abuse_reports').findOne({ _id: reportId as never }))?.['status'] === 'ready', 'the interrupted report', 2_400);
    expect(await reportQueue.getJobState(reportId)).toBe('completed');
    expect(await db.collection('abuse_reports').countDocuments()).toBe(1);
    second.child.kill('SIGTERM');
    await second.ended;
  });
});
