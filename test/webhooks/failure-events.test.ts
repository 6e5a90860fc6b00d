/**
 * Specification: an e-mail given up by the outbox and a Stripe event dead-lettered by billing
 * each produce one webhook event, recorded in the write that marks the failure; retries that
 * are not final produce none.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import { MongoStripeEventStore } from '../../lib/store/mongo-stripe-event-store.js';
import { startWebhookFixture, type WebhookFixture } from '../support/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let fx: WebhookFixture;
let receiver: WebhookReceiver;

beforeEach(async () => {
  fx = await startWebhookFixture();
  receiver = await startWebhookReceiver();
  const { secret } = await fx.endpoints.create({ url: receiver.url, eventTypes: ['email.failed', 'stripe_event.failed'] }, fx.now());
  receiver.setSecrets([secret]);
});

afterEach(async () => {
  await receiver.close();
  await fx.close();
});

describe('failure events', () => {
  it('sends email.failed once when the outbox gives an e-mail up, not for a retry', async () => {
    const outbox = new MongoEmailOutbox({ db: fx.kw.db });
    const now = new Date('2026-11-01T10:00:00Z');
    const { id } = await outbox.enqueue({ kind: 'payment_failed', to: 'ada@example.com', licenseId: 'lic_1', customerId: 'cus_1', dedupeKey: 'pf:1' }, now);
    const first = await outbox.claimDue(now, 60_000);
    if (!first) throw new Error('not claimed');
    await outbox.markRetry(first, now, '421 try later');
    const second = await outbox.claimDue(now, 60_000);
    if (!second) throw new Error('not claimed');
    await outbox.markFailed(second, now, '550 mailbox unavailable');

    await fx.dispatcher().drain();
    const received = [...receiver.unique().values()];
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ type: 'email.failed', data: { email: { id, kind: 'payment_failed', status: 'failed', attempts: 2, lastError: '550 mailbox unavailable' } } });
  });

  it('sends stripe_event.failed once when billing dead-letters a Stripe event, never its body', async () => {
    const events = new MongoStripeEventStore({ db: fx.kw.db });
    const now = new Date('2026-11-01T10:00:00Z');
    const body = JSON.stringify({ id: 'evt_1Stripe', type: 'invoice.paid', data: { object: { customer_email: 'ada@example.com' } } });
    await events.insert({ id: 'evt_1Stripe', type: 'invoice.paid', created: now, livemode: false, body }, now);
    await events.recordAttempt('evt_1Stripe', { status: 'retrying', error: { code: 'DATASTORE_UNAVAILABLE', message: 'down' } }, now);
    await events.recordAttempt('evt_1Stripe', { status: 'failed', error: { code: 'SUBSCRIPTION_NOT_FOUND', message: 'no such subscription' }, subscriptionId: 'sub_1' }, now);

    await fx.dispatcher().drain();
    const received = [...receiver.unique().values()];
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      type: 'stripe_event.failed',
      data: { stripeEvent: { id: 'evt_1Stripe', type: 'invoice.paid', status: 'failed', attempts: 2, subscriptionId: 'sub_1', error: { code: 'SUBSCRIPTION_NOT_FOUND' } } },
    });
    expect(received[0]?.body).not.toContain('ada@example.com');
    expect(await events.get('evt_1Stripe')).toMatchObject({ status: 'failed', attempts: 2, subscriptionId: 'sub_1' });
  });
});
