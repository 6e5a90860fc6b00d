/**
 * Specification: every event of a whole license life reaches a receiver exactly once after
 * deduplication by webhook-id, each delivery verified with the `standardwebhooks` library; the
 * payload is the license as the admin API shows it (masked key, never the key or its digest).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { licenseEventTypesOf } from '../../lib/webhooks/license-event-types.js';
import { webhookEventId } from '../../lib/webhooks/webhook-event.js';
import { startWebhookFixture, type WebhookFixture } from '../support/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let fx: WebhookFixture;
let receiver: WebhookReceiver;

beforeEach(async () => {
  fx = await startWebhookFixture();
  receiver = await startWebhookReceiver();
});

afterEach(async () => {
  await receiver.close();
  await fx.close();
});

function ok<T>(result: { ok: true; value: T } | { ok: false; refusal: { code: string } }): T {
  if (!result.ok) throw new Error(`refused: ${result.refusal.code}`);
  return result.value;
}

describe('a whole license life', () => {
  it('delivers each event exactly once after deduplication, signed, with the masked key', async () => {
    const { endpoint, secret } = await fx.endpoints.create({ url: receiver.url, description: 'crm sync' }, fx.now());
    receiver.setSecrets([secret]);
    const { keyward } = fx.kw;
    const plans = keyward.plans;
    const basic = plans.get('basic');
    const pro = plans.get('pro');
    if (!basic || !pro) throw new Error('test plans missing');

    fx.kw.setNow('2026-01-01T00:00:00Z');
    const issued = ok(await keyward.licenses.issue({ planId: 'pro', periodEndsAt: new Date('2026-02-01T00:00:00Z') }));
    const id = issued.record.license.id;
    const steps = [
      { type: 'activate', kind: 'machine', value: 'machine-1' },
      { type: 'activate', kind: 'machine', value: 'machine-2' },
      { type: 'deactivate', kind: 'machine', value: 'machine-2' },
      { type: 'change_plan', plan: basic },
      { type: 'change_plan', plan: pro },
      { type: 'suspend', reason: 'payment_failed' },
      { type: 'renew', periodEndsAt: new Date('2026-03-01T00:00:00Z') },
      { type: 'suspend', reason: 'manual' },
      { type: 'reinstate' },
      { type: 'cancel' },
      { type: 'resume' },
      { type: 'change_plan', plan: basic },
    ] as const;
    for (const command of steps) ok(await keyward.licenses.apply(id, command));
    fx.kw.setNow('2026-03-02T00:00:00Z');
    ok(await keyward.licenses.apply(id, { type: 'apply_pending_change' }));
    ok(await keyward.licenses.apply(id, { type: 'expire' }));
    ok(await keyward.licenses.apply(id, { type: 'renew', periodEndsAt: new Date('2026-04-01T00:00:00Z') }));
    ok(await keyward.licenses.apply(id, { type: 'revoke', reason: 'refund' }));

    const trail = await keyward.licenses.auditTrail(id, { limit: 100 });
    const expected = trail.flatMap((entry) => licenseEventTypesOf(entry).map((type) => ({ id: webhookEventId(id, entry.version, type), type })));
    expect(new Set(expected.map((event) => event.type))).toEqual(
      new Set([
        'license.created', 'license.activated', 'license.deactivated', 'license.plan_change_scheduled', 'license.plan_changed',
        'license.suspended', 'license.renewed', 'license.reinstated', 'license.cancelled', 'license.resumed', 'license.expired', 'license.revoked',
      ]),
    );

    const dispatcher = fx.dispatcher();
    await dispatcher.drain();
    // A second relay and fan-out of the same events (two workers, a restart) changes nothing.
    await dispatcher.drain();

    const unique = receiver.unique();
    expect(receiver.rejected).toEqual([]);
    expect([...unique.keys()].sort()).toEqual(expected.map((event) => event.id).sort());
    expect(receiver.deliveries).toHaveLength(expected.length);
    for (const event of expected) expect(unique.get(event.id)?.type).toBe(event.type);

    const revoked = unique.get(webhookEventId(id, trail.at(-1)?.version ?? 0, 'license.revoked'));
    const license = revoked?.data['license'] as Record<string, unknown>;
    expect(license['id']).toBe(id);
    expect(license['status']).toBe('revoked');
    expect(license['keyMask']).toBe(issued.record.keyMask);
    const body = receiver.deliveries.map((delivery) => delivery.body).join('\n');
    expect(body).not.toContain(issued.key);
    expect(body).not.toContain(issued.record.license.keyDigest);
    expect(body).not.toContain(issued.record.keyCiphertext);

    const log = await fx.outbox.list({ endpointId: endpoint._id, limit: 100 });
    expect(log.data.map((delivery) => delivery.status)).toEqual(expected.map(() => 'succeeded'));
    expect(log.data.every((delivery) => delivery.attempts === 1 && delivery.lastAttempt?.statusCode === 204)).toBe(true);
    // Nothing is left on the license document once relayed.
    expect(await fx.kw.db.collection('licenses').countDocuments({ pendingWebhookEvents: { $exists: true } })).toBe(0);
  });
});
