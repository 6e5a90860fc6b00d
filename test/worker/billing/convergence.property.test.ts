/**
 * Invariant, end to end: the same Stripe events give the same license in any delivery order,
 * with repeats. Generated subscription lives (see test/support/subscription-story.ts: built from
 * Stripe's fixture objects, both API generations, events sharing one `created` second) are
 * posted as signed webhooks to a real server and applied by two real workers with concurrent
 * jobs each (webhook → stored event → billing job → MongoDB), in order and in a random order
 * with repeats. Both end in the license the life paid for (plan and seats included), and the
 * key is e-mailed once. A
 * pending downgrade whose time has come counts as applied (the scheduler applies it within
 * `BILLING_SCHEDULE_EVERY_SECONDS`). The pure property (test/billing/provisioning-order.property
 * .test.ts) covers many more lives; this one shows the real pipeline agrees.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { License } from '../../../lib/lifecycle/license.js';
import { DEFAULT_BILLING_CONFIG } from '../../../worker/billing/billing-config.js';
import { startBillingSystem, type BillingSystem } from '../../support/billing-fixture.js';
import { licenseProjection } from '../../support/provisioning-harness.js';
import { BILLING_TEST_PLANS } from '../../support/stripe-events.js';
import { expectedLicense, lifePlans, subscriptionLife, type Life, type LifePlan } from '../../support/subscription-story.js';
import { loadPlanCatalogue } from '../../../lib/plans/plan-catalogue.js';

const plans = loadPlanCatalogue(BILLING_TEST_PLANS);

/** The license after the scheduler's next run: a due pending downgrade applied. */
function scheduled(license: License, now: Date): License {
  const pending = license.pendingChange;
  if (pending === null || pending.effectiveAt.getTime() > now.getTime()) return license;
  return { ...license, planId: pending.planId, planRank: pending.planRank, limits: pending.limits, pendingChange: null };
}

async function play(billing: BillingSystem, life: Life, order: readonly number[]) {
  for (const index of order) await billing.send(life.events[index]!);
  for (const event of life.events) expect(await billing.settled(event.id)).toMatchObject({ status: 'processed', error: null });
  const record = await billing.license(life.subscriptionId);
  expect(record).not.toBeNull();
  const license = record!.license;
  const emails = await billing.emails(license.id);
  const deliveries = emails.filter((email) => email.kind === 'key_delivery');
  if (life.email !== null && license.status !== 'revoked') expect(deliveries.map((email) => [email.to, email.dedupeKey])).toEqual([[life.email, `key_delivery:${life.subscriptionId}`]]);
  if (life.email === null) expect(emails).toEqual([]);
  return licenseProjection(scheduled(license, new Date()), life.now);
}

/** Every index once, shuffled, plus up to `extra` repeats. */
const deliveries = (count: number, extra: number) =>
  fc
    .tuple(fc.shuffledSubarray([...Array(count).keys()], { minLength: count, maxLength: count }), fc.array(fc.nat(count - 1), { maxLength: extra }))
    .chain(([all, repeats]) => fc.shuffledSubarray([...all, ...repeats], { minLength: all.length + repeats.length, maxLength: all.length + repeats.length }));

describe.each(['legacy', 'current'] as const)('subscription lives of the %s API generation, delivered in any order with repeats', (generation) => {
  it('end with the license the life paid for, as in-order delivery does', async () => {
    // Events that arrive before the one that links them are retried (SUBSCRIPTION_NOT_SEEN,
    // CHARGE_NOT_LINKED, INVOICE_NOT_LINKED): enough tries that a busy machine cannot run out.
    const billing = await startBillingSystem({ workers: 2, billing: { jobAttempts: 12 }, webhook: { jobAttempts: 12 } });
    const lives = lifePlans.filter((plan) => plan.generation === generation);
    const withOrder = lives.chain((plan: LifePlan) => deliveries(subscriptionLife(plan, new Date()).events.length, 6).map((order) => ({ plan, order })));
    await fc.assert(
      fc.asyncProperty(withOrder, async ({ plan, order }) => {
        const inOrder = subscriptionLife(plan, new Date());
        const expected = expectedLicense(plan, inOrder, plans, DEFAULT_BILLING_CONFIG.renewalGraceMs);
        expect(await play(billing, inOrder, inOrder.events.map((_, i) => i))).toEqual(expected);
        const shuffled = subscriptionLife(plan, new Date());
        expect(await play(billing, shuffled, order)).toEqual(expected);
      }),
      { numRuns: 4 },
    );
  }, 240_000);
});
