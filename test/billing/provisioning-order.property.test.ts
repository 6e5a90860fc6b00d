/**
 * Invariant: the same Stripe events give the same license in any delivery order, with any
 * repeats, including events that share one `created` second. Generated subscription lives
 * (checkout with or without a trial, conversion, renewals, failed payments and recoveries,
 * upgrades, downgrades, per-seat quantity changes (some in the second of the event before),
 * cancellations and resumptions, refunds, disputes, deletions; add-on items before the plan's;
 * both API generations), built from Stripe's fixture objects, are played through the real
 * parser, the real MongoDB store and the real decision in order, and in a random permutation
 * with duplicates; both end in the same license (plan and seats, pending change and its seats,
 * status, period end, trial, cancellation), the in-order one is the license the life paid for,
 * and every e-mail is asked for under one dedupe key (so the outbox sends it once).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { withTestDatabase } from '../setup/services.js';
import { licenseProjection, ProvisioningHarness } from '../support/provisioning-harness.js';
import { BILLING_TEST_PLANS } from '../support/stripe-events.js';
import { expectedLicense, lifePlans, subscriptionLife, type Life } from '../support/subscription-story.js';

const plans = loadPlanCatalogue(BILLING_TEST_PLANS);
const NOW = new Date('2030-06-15T12:00:00Z');
const DAY = 86_400_000;
const graces = { paymentGraceMs: 3 * DAY, renewalGraceMs: 3 * DAY };

/** Every index once, shuffled, plus up to `extra` repeats anywhere. */
const deliveries = (count: number, extra: number) =>
  fc
    .tuple(fc.shuffledSubarray([...Array(count).keys()], { minLength: count, maxLength: count }), fc.array(fc.nat(count - 1), { maxLength: extra }))
    .chain(([all, repeats]) => fc.shuffledSubarray([...all, ...repeats], { minLength: all.length + repeats.length, maxLength: all.length + repeats.length }));

const planAndOrder = lifePlans.chain((plan) => deliveries(subscriptionLife(plan, NOW).events.length, 8).map((order) => ({ plan, order })));

async function play(db: Parameters<Parameters<typeof withTestDatabase>[0]>[0], life: Life, order: readonly number[]) {
  const harness = new ProvisioningHarness({ db, plans, now: NOW, ...graces });
  await harness.deliverAll(order.map((index) => life.events[index]!));
  harness.runScheduler();
  return harness;
}

describe('provisioning converges whatever the delivery order', () => {
  it('ends in the in-order license, which is the one the life paid for, and asks for each e-mail under one key', async () => {
    await withTestDatabase(async (db) => {
      await fc.assert(
        fc.asyncProperty(planAndOrder, async ({ plan, order }) => {
          const life = subscriptionLife(plan, NOW);
          const inOrder = await play(db, life, life.events.map((_, i) => i));
          const shuffled = await play(db, life, order);
          const expected = licenseProjection(inOrder.license, NOW);
          expect(expected).toEqual(expectedLicense(plan, life, plans, graces.renewalGraceMs));
          expect(licenseProjection(shuffled.license, NOW)).toEqual(expected);
          for (const harness of [inOrder, shuffled]) {
            const deliveries = [...harness.emails.entries()].filter(([, email]) => email.kind === 'key_delivery').map(([key]) => key);
            if (life.email === null) {
              // Nothing can be sent, and that is recorded, not silent.
              expect([...harness.emails.keys()]).toEqual([]);
              expect(harness.undelivered).toContain(harness.license?.status === 'revoked' ? 'license_revoked' : 'key_delivery');
            } else if (harness.license?.status !== 'revoked') {
              expect(deliveries).toEqual([`key_delivery:${life.subscriptionId}`]);
            } else {
              // A refund applied before the license was first settled revokes it before any delivery.
              expect(deliveries.length).toBeLessThanOrEqual(1);
            }
            const revoked = [...harness.emails.values()].filter((email) => email.kind === 'license_revoked');
            expect(revoked).toHaveLength(life.email !== null && harness.license?.status === 'revoked' ? 1 : 0);
          }
        }),
        { numRuns: Number(process.env["BILLING_PROPERTY_RUNS"] ?? 60) },
      );
    });
  }, 300_000);
});
