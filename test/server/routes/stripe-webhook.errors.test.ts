/** The Stripe webhook's answers to bad input and to a missing configuration or queue. */
import { describe, expect, it } from 'vitest';

import { startRedisServer } from '../../../embedded/redis-server.js';
import { serverWiring } from '../../../server/main.js';
import { startBillingSystem } from '../../support/billing-fixture.js';
import { startTestServer } from '../../support/server-fixture.js';
import { postWebhook, stripeEvent } from '../../support/stripe-events.js';

describe('POST /v1/stripe/webhook: bad input', () => {
  it('answers 400 INVALID_JSON for a signed body that is not JSON', async () => {
    const billing = await startBillingSystem({ worker: false });
    const answer = await postWebhook(billing.server.url, 'this is not json');
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'INVALID_JSON' } } });
  });

  it('answers 400 INVALID_REQUEST for signed JSON that is not a Stripe event', async () => {
    const billing = await startBillingSystem({ worker: false });
    const answer = await postWebhook(billing.server.url, JSON.stringify({ hello: 'world' }));
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
  });

  it('answers 413 for a body over the webhook limit', async () => {
    const billing = await startBillingSystem({ worker: false, webhook: { bodyLimitBytes: 1_024 } });
    const big = stripeEvent('customer.updated', { id: 'cus_x', object: 'customer', description: 'x'.repeat(2_000) }, new Date());
    const answer = await postWebhook(billing.server.url, big);
    expect(answer).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect(await billing.events.get(big.id)).toBeNull();
  });

  it('answers 503 STRIPE_NOT_CONFIGURED without a webhook secret, while the rest of the server works', async () => {
    const billing = await startBillingSystem({ worker: false, webhook: { webhookSecret: null } });
    const answer = await postWebhook(billing.server.url, stripeEvent('invoice.paid', { id: 'in_1' }, new Date()));
    expect(answer).toMatchObject({ status: 503, body: { error: { code: 'STRIPE_NOT_CONFIGURED' } } });
    expect((await fetch(`${billing.server.url}/healthz`)).status).toBe(200);
  });

  it('is served, and described, by the production wiring, which starts without any Stripe setting', async () => {
    const server = await startTestServer({}, serverWiring);
    const answer = await postWebhook(server.url, stripeEvent('invoice.paid', { id: 'in_1' }, new Date()));
    expect(answer).toMatchObject({ status: 503, body: { error: { code: 'STRIPE_NOT_CONFIGURED', requestId: expect.any(String) } } });
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/stripe/webhook', '/v1/admin/stripe/events']));
  });

  it('answers 405 to other methods', async () => {
    const billing = await startBillingSystem({ worker: false });
    const response = await fetch(`${billing.server.url}/v1/stripe/webhook`);
    expect(response.status).toBe(405);
  });
});

describe('POST /v1/stripe/webhook: storing', () => {
  it('stores a delivery once, however often Stripe retries it', async () => {
    const billing = await startBillingSystem({ worker: false });
    const sent = stripeEvent('customer.created', { id: 'cus_x', object: 'customer' }, new Date());
    const answers = await Promise.all([1, 2, 3].map(() => postWebhook(billing.server.url, sent)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => a.body['duplicate'] === false)).toHaveLength(1);
    expect(await billing.events.list({ limit: 10 })).toHaveLength(1);
  });

  it('stores and queues every event of a concurrent burst (written in batches), each once, and answers each only for its own event', async () => {
    const billing = await startBillingSystem();
    const sent = Array.from({ length: 40 }, (_, i) => stripeEvent('customer.created', { id: `cus_burst${i}`, object: 'customer' }, new Date()));
    const answers = await Promise.all([...sent, ...sent.slice(0, 10)].map((event) => postWebhook(billing.server.url, event)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(answers.map((answer) => answer.body['id'])).toEqual([...sent, ...sent.slice(0, 10)].map((event) => event.id));
    expect(answers.filter((answer) => answer.body['duplicate'] === false)).toHaveLength(40);
    const final = await Promise.all(sent.map((event) => billing.settled(event.id)));
    expect(final.map((event) => [event.status, event.attempts])).toEqual(sent.map(() => ['ignored', 1]));
  });

  it('stores and acknowledges an event type billing does not handle, and records it as ignored', async () => {
    const billing = await startBillingSystem();
    const sent = stripeEvent('customer.tax_id.created', { id: 'txi_1', object: 'tax_id' }, new Date());
    expect(await billing.apply(sent)).toMatchObject({ status: 'ignored', outcome: 'UNHANDLED_TYPE:customer.tax_id.created', error: null });
  });

  it('acknowledges an event while Redis is down, and the worker sweep applies it later', async () => {
    const doomed = await startRedisServer();
    const billing = await startBillingSystem({ serverRedisUrl: doomed.url, billing: { sweepAfterMs: 0, scheduleEveryMs: 50 } });
    await doomed.stop();
    const sent = stripeEvent('customer.tax_id.created', { id: 'txi_1', object: 'tax_id' }, new Date());
    const answer = await postWebhook(billing.server.url, sent);
    expect(answer.status).toBe(200);
    expect(await billing.settled(sent.id)).toMatchObject({ status: 'ignored' });
  });
});
