/**
 * Specification of delivery: at-least-once with retries on an exponential backoff (the
 * scheduling clock is moved, so days of retries take no time), endpoints that keep failing are
 * disabled once and the operator is told, a slow receiver holds back no other endpoint, and a
 * rotated secret keeps signing beside the new one during its overlap.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { WebhookEndpointDocument } from '../../lib/store/mongo-webhook-endpoint-store.js';
import { startWebhookFixture, type WebhookFixture } from '../support/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let fx: WebhookFixture;
const receivers: WebhookReceiver[] = [];

beforeEach(async () => {
  fx = await startWebhookFixture();
});

afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
  await fx.close();
});

async function receiverWithEndpoint(options: { eventTypes?: Array<'license.created' | 'license.revoked'> } = {}): Promise<{ receiver: WebhookReceiver; endpoint: WebhookEndpointDocument; secret: string }> {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const { endpoint, secret } = await fx.endpoints.create({ url: receiver.url, ...(options.eventTypes ? { eventTypes: options.eventTypes } : {}) }, fx.now());
  receiver.setSecrets([secret]);
  return { receiver, endpoint, secret };
}

async function issueLicenses(count: number): Promise<string[]> {
  const issued = await fx.kw.keyward.licenses.issueMany(count, { planId: 'pro' });
  if (!issued.ok) throw new Error(issued.refusal.code);
  return issued.value.map((item) => item.record.license.id);
}

const HOUR = 3_600_000;

describe('retries', () => {
  it('delivers everything once the receiver is back, after retries spaced by the backoff', async () => {
    const { receiver, endpoint } = await receiverWithEndpoint();
    await issueLicenses(5);
    await receiver.stop();
    const dispatcher = fx.dispatcher();
    // Down for six attempts: connection refused each time, each retry later than the last.
    const waits: number[] = [];
    for (let round = 0; round < 6; round++) {
      await dispatcher.drain();
      const { data } = await fx.outbox.list({ endpointId: endpoint._id, limit: 10 });
      expect(data.every((delivery) => delivery.status === 'pending' && delivery.attempts === round + 1)).toBe(true);
      // The wait each retry was given: its next attempt time minus the failed attempt's time.
      waits.push(Math.min(...data.map((delivery) => delivery.nextAttemptAt.getTime() - (delivery.lastAttempt?.at.getTime() ?? 0))));
      fx.advance(Math.max(...data.map((delivery) => delivery.nextAttemptAt.getTime())) - fx.now().getTime() + 1);
    }
    // 10 s doubling, ±20 % jitter: each wait is at least 1.6 / 1.2 times the one before.
    expect(waits[0]).toBeGreaterThanOrEqual(8_000);
    expect(waits[0]).toBeLessThanOrEqual(12_000);
    expect(waits.every((wait, index) => index === 0 || wait > (waits[index - 1] ?? 0))).toBe(true);
    expect(receiver.deliveries).toHaveLength(0);

    await receiver.start();
    await dispatcher.drain();
    expect(receiver.unique().size).toBe(5);
    const { data } = await fx.outbox.list({ endpointId: endpoint._id, limit: 10 });
    expect(data.map((delivery) => [delivery.status, delivery.attempts])).toEqual(data.map(() => ['succeeded', 7]));
    const log = data[0]?.attemptLog ?? [];
    expect(log.slice(0, 6).every((attempt) => attempt.statusCode === null && (attempt.error ?? '').includes('ECONNREFUSED'))).toBe(true);
    expect(log[6]?.statusCode).toBe(204);
    const stored = await fx.endpoints.get(endpoint._id);
    expect(stored?.failingSince).toBeNull();
    expect(stored?.enabled).toBe(true);
  });

  it('gives a delivery up after its last attempt, disables an endpoint failing that long and tells the operator once', async () => {
    const { receiver, endpoint } = await receiverWithEndpoint();
    receiver.setMode('fail');
    await issueLicenses(2);
    const told: string[] = [];
    const dispatcher = fx.dispatcher({
      retry: { maxAttempts: 4, baseDelayMs: HOUR, maxDelayMs: 24 * HOUR, jitter: 0.2 },
      disableAfterMs: 6 * HOUR,
      onEndpointDisabled: (disabled) => {
        told.push(disabled._id);
        return Promise.resolve();
      },
    });
    for (let round = 0; round < 4; round++) {
      await dispatcher.drain();
      fx.advance(8 * HOUR);
    }
    const { data } = await fx.outbox.list({ endpointId: endpoint._id, limit: 10 });
    expect(data.map((delivery) => [delivery.status, delivery.attempts, delivery.lastAttempt?.statusCode])).toEqual([
      ['failed', 4, 503],
      ['failed', 4, 503],
    ]);
    const stored = await fx.endpoints.get(endpoint._id);
    expect(stored?.enabled).toBe(false);
    expect(stored?.disabledReason).toBe('failing');
    expect(told).toEqual([endpoint._id]);

    // Fixed and re-enabled by the operator, a manual redelivery goes through.
    receiver.setMode('ok');
    await fx.endpoints.update(endpoint._id, { enabled: true }, fx.now());
    const [first] = data;
    if (!first) throw new Error('no delivery');
    await fx.outbox.redeliver(first._id, fx.now());
    await dispatcher.drain();
    expect(receiver.unique().size).toBe(1);
    expect((await fx.outbox.get(first._id))?.status).toBe('succeeded');
  });
});

describe('isolation between endpoints', () => {
  it('a hanging receiver fills only its own slots; the other endpoint gets everything meanwhile', async () => {
    const slow = await receiverWithEndpoint();
    const fast = await receiverWithEndpoint();
    slow.receiver.setMode('hang');
    await issueLicenses(20);
    const dispatcher = fx.dispatcher({ concurrencyPerEndpoint: 3 });
    await dispatcher.tick();
    await fast.receiver.waitForUnique(20);
    await slow.receiver.waitForHanging(3);
    expect(slow.receiver.deliveries).toHaveLength(3);
    expect(dispatcher.inFlightTo(slow.endpoint._id)).toBe(3);

    slow.receiver.setMode('ok');
    slow.receiver.release();
    await dispatcher.drain();
    expect(slow.receiver.unique().size).toBe(20);
    expect(fast.receiver.deliveries).toHaveLength(20);
  });

  it('sends an endpoint only the event types it asked for', async () => {
    const picky = await receiverWithEndpoint({ eventTypes: ['license.revoked'] });
    const [id] = await issueLicenses(2);
    const revoked = await fx.kw.keyward.licenses.apply(id ?? '', { type: 'revoke', reason: 'manual' });
    expect(revoked.ok).toBe(true);
    await fx.dispatcher().drain();
    expect([...picky.receiver.unique().values()].map((event) => event.type)).toEqual(['license.revoked']);
  });
});

describe('secret rotation', () => {
  it('signs with both secrets during the overlap, then with the new one only', async () => {
    const { receiver, endpoint, secret: oldSecret } = await receiverWithEndpoint();
    const rotated = await fx.endpoints.rotateSecret(endpoint._id, 24 * HOUR, fx.now());
    if (!rotated) throw new Error('no endpoint');
    expect(rotated.secret).not.toBe(oldSecret);
    const dispatcher = fx.dispatcher();

    // During the overlap a receiver still on the old secret verifies, and so does one on the new.
    receiver.setSecrets([oldSecret]);
    await issueLicenses(1);
    await dispatcher.drain();
    receiver.setSecrets([rotated.secret]);
    await issueLicenses(1);
    await dispatcher.drain();
    expect(receiver.rejected).toEqual([]);
    expect(receiver.deliveries.map((delivery) => delivery.headers['webhook-signature']?.split(' ').length)).toEqual([2, 2]);

    // After the overlap only the new secret signs.
    fx.advance(24 * HOUR + 1);
    receiver.setSecrets([oldSecret]);
    await issueLicenses(1);
    await dispatcher.tick();
    await dispatcher.idle();
    expect(receiver.rejected).toHaveLength(1);
    receiver.setSecrets([rotated.secret]);
    fx.advance(HOUR);
    await dispatcher.drain();
    expect(receiver.deliveries).toHaveLength(3);
    expect(receiver.deliveries.at(-1)?.headers['webhook-signature']?.split(' ')).toHaveLength(1);
  });
});
