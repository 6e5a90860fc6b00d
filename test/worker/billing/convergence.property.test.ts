/**
 * Duplicated and out-of-order deliveries converge: each story is replayed in random orders with
 * random repeats (fast-check), posted over HTTP and applied by two real workers with concurrent
 * jobs each, and the license it ends with equals the one the in-order story gives. The plan compared
 * is the effective one (a downgrade that waits for the period end counts as its target). A revoked
 * license is compared by status and reason only: revocation is terminal, so its period and plan
 * stay as they were when the refund arrived, which depends on what came before it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { License } from '../../../lib/lifecycle/license.js';
import { startBillingSystem, type BillingSystem } from '../../support/billing-fixture.js';
import { PRICES, type StripeEventJson } from '../../support/stripe-events.js';
import { subscriptionStory } from '../../support/subscription-story.js';

type Story = { subscriptionId: string; start: Date; events: StripeEventJson[] };

/** Checkout with a trial, conversion, renewal, failed payment and recovery, upgrade, downgrade, cancellation. */
function wholeLife(): Story {
  const story = subscriptionStory();
  const events = [
    ...story.trialCheckout(PRICES.basic),
    ...story.conversion(PRICES.basic, 44),
    ...story.renewal(PRICES.basic, 44, 74),
    ...story.failedPayment(PRICES.basic, 74, 104),
    ...story.recovery(PRICES.basic, 74, 104),
    ...story.planChange(PRICES.web, 74, 104),
    ...story.planChange(PRICES.pro, 74, 104),
    ...story.cancelAtPeriodEnd(PRICES.pro, 74, 104),
  ];
  return { subscriptionId: story.ids.subscription, start: story.at(0), events };
}

/** A paid subscription that is renewed, disputed, then refunded. */
function disputedAndRefunded(): Story {
  const story = subscriptionStory();
  const checkout = story.paidCheckout(PRICES.pro);
  const events = [...checkout.events, ...story.renewal(PRICES.pro, 30, 60), ...story.dispute(checkout.charge), ...story.refund(checkout.charge)];
  return { subscriptionId: story.ids.subscription, start: story.at(0), events };
}

/** A paid subscription that is disputed, then renewed and upgraded while the dispute holds it. */
function disputedAndRenewed(): Story {
  const story = subscriptionStory();
  const checkout = story.paidCheckout(PRICES.basic);
  const events = [...checkout.events, ...story.dispute(checkout.charge), ...story.renewal(PRICES.basic, 30, 60), ...story.planChange(PRICES.pro, 30, 60)];
  return { subscriptionId: story.ids.subscription, start: story.at(0), events };
}

/** The license as compared across orders: times relative to the story's start. */
function projection(license: License, start: Date) {
  const rel = (date: Date | null) => (date === null ? null : date.getTime() - start.getTime());
  if (license.status === 'revoked') return { status: license.status, keyType: license.keyType, revocation: license.revocation?.reason ?? null };
  return {
    status: license.status,
    keyType: license.keyType,
    effectivePlan: license.pendingChange?.planId ?? license.planId,
    periodEndsAt: rel(license.periodEndsAt),
    trialEndsAt: rel(license.trial?.endsAt ?? null),
    cancelAtPeriodEnd: license.cancelAtPeriodEnd,
    suspension: license.suspension?.reason ?? null,
    revocation: license.revocation?.reason ?? null,
  };
}

async function play(billing: BillingSystem, story: Story, order: readonly number[]) {
  for (const index of order) await billing.send(story.events[index]!);
  for (const event of story.events) expect(await billing.settled(event.id)).toMatchObject({ status: 'processed', error: null });
  const licenses = await billing.server.server.keyward.licenses.list({ limit: 500 });
  expect(licenses.filter((record) => record.stripeSubscriptionId === story.subscriptionId)).toHaveLength(1);
  const record = await billing.license(story.subscriptionId);
  return projection(record!.license, story.start);
}

/** Every index once, shuffled, plus up to `extra` repeats. */
const deliveries = (count: number, extra: number) =>
  fc
    .tuple(fc.shuffledSubarray([...Array(count).keys()], { minLength: count, maxLength: count }), fc.array(fc.nat(count - 1), { maxLength: extra }))
    .chain(([all, repeats]) => fc.shuffledSubarray([...all, ...repeats], { minLength: all.length + repeats.length, maxLength: all.length + repeats.length }));

describe.each([
  ['a whole subscription life', wholeLife, 6],
  ['a disputed and refunded subscription', disputedAndRefunded, 4],
  ['a disputed subscription that renews and upgrades', disputedAndRenewed, 4],
] as const)('%s, delivered in any order with repeats', (_name, make, runs) => {
  it('ends with the license the in-order delivery gives', async () => {
    const billing = await startBillingSystem({ workers: 2 });
    const inOrder = make();
    const expected = await play(billing, inOrder, inOrder.events.map((_, i) => i));
    await fc.assert(
      fc.asyncProperty(deliveries(inOrder.events.length, 6), async (order) => {
        const story = make();
        expect(await play(billing, story, order)).toEqual(expected);
      }),
      { numRuns: runs },
    );
  }, 120_000);
});
