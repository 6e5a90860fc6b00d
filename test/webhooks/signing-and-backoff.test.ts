/**
 * Specification of the pure parts of delivery. Invariants: every signature Keyward makes
 * verifies with the `standardwebhooks` library for each secret in force (and with no other);
 * retry waits grow, stay within their jitter bounds, and the default schedule spans about three
 * days; every lifecycle command has its webhook events.
 */
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';

import { DEFAULT_WEBHOOK_RETRY, decideRetry, nominalRetryDelayMs, nominalRetrySpanMs } from '../../lib/webhooks/delivery-backoff.js';
import { licenseEventTypesOf } from '../../lib/webhooks/license-event-types.js';
import { WEBHOOK_EVENT_TYPES, webhookEventId } from '../../lib/webhooks/webhook-event.js';
import { generateWebhookSecret, webhookHeaders } from '../../lib/webhooks/webhook-signature.js';

const DAY = 86_400_000;

describe('signatures', () => {
  it('verify with the standardwebhooks library for every secret that signed, and not for another', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }).map((text) => `evt_${Buffer.from(text).toString('hex').slice(0, 24)}`),
        fc.json(),
        fc.integer({ min: 1, max: 3 }),
        (id, body, secretCount) => {
          const secrets = Array.from({ length: secretCount }, generateWebhookSecret);
          const timestampSeconds = Math.floor(Date.now() / 1000);
          const headers = webhookHeaders({ id, timestampSeconds, body }, secrets);
          for (const secret of secrets) expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
          expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
          expect(() => new Webhook(secrets[0] ?? '').verify(`${body} `, headers)).toThrow();
        },
      ),
      { numRuns: 50 },
    );
  });

  it('has one stable event id per subject, revision and type', () => {
    expect(webhookEventId('lic_1', 3, 'license.renewed')).toBe(webhookEventId('lic_1', 3, 'license.renewed'));
    const ids = new Set(WEBHOOK_EVENT_TYPES.flatMap((type) => [1, 2].map((version) => webhookEventId('lic_1', version, type))));
    expect(ids.size).toBe(WEBHOOK_EVENT_TYPES.length * 2);
  });
});

describe('backoff', () => {
  it('waits within the jitter bounds of a nominal wait that never shrinks, and gives up after the last attempt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: DEFAULT_WEBHOOK_RETRY.maxAttempts + 3 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, random) => {
        const decision = decideRetry(attempt, random);
        if (attempt >= DEFAULT_WEBHOOK_RETRY.maxAttempts) {
          expect(decision.retry).toBe(false);
          return;
        }
        if (!decision.retry) throw new Error('expected a retry');
        const nominal = nominalRetryDelayMs(attempt);
        expect(decision.delayMs).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(decision.delayMs).toBeLessThanOrEqual(Math.ceil(nominal * 1.2));
        expect(nominalRetryDelayMs(attempt + 1)).toBeGreaterThanOrEqual(nominal);
      }),
    );
  });

  it('spreads the default attempts over about three days, 10 s first', () => {
    expect(nominalRetryDelayMs(1)).toBe(10_000);
    expect(nominalRetryDelayMs(2)).toBe(20_000);
    expect(nominalRetrySpanMs()).toBeGreaterThan(3 * DAY);
    expect(nominalRetrySpanMs()).toBeLessThan(3.5 * DAY);
  });
});

describe('license event types', () => {
  it.each([
    ['issue', null, 'active', {}, ['license.created']],
    ['activate', 'active', 'active', {}, ['license.activated']],
    ['deactivate', 'active', 'active', {}, ['license.deactivated']],
    ['heartbeat', 'active', 'active', { floating: true }, []],
    ['renew', 'active', 'active', {}, ['license.renewed']],
    ['renew', 'suspended', 'active', {}, ['license.renewed', 'license.reinstated']],
    ['renew', 'expired', 'active', {}, ['license.renewed']],
    ['change_plan', 'active', 'active', { fromPlanId: 'pro', toPlanId: 'web', kind: 'upgrade' }, ['license.plan_changed']],
    ['change_plan', 'active', 'active', { fromPlanId: 'pro', toPlanId: 'basic', kind: 'downgrade_scheduled' }, ['license.plan_change_scheduled']],
    ['change_plan', 'active', 'active', { cancelledPendingPlanId: 'basic' }, ['license.plan_change_scheduled']],
    ['apply_pending_change', 'active', 'active', {}, ['license.plan_changed']],
    ['suspend', 'active', 'suspended', {}, ['license.suspended']],
    ['reinstate', 'suspended', 'active', {}, ['license.reinstated']],
    ['cancel', 'active', 'active', {}, ['license.cancelled']],
    ['resume', 'active', 'active', {}, ['license.resumed']],
    ['expire', 'active', 'expired', {}, ['license.expired']],
    ['revoke', 'active', 'revoked', {}, ['license.revoked']],
  ] as const)('%s (%s → %s) %j gives %j', (command, from, to, details, expected) => {
    expect(licenseEventTypesOf({ command, from, to, details })).toEqual(expected);
  });
});
