/**
 * A subscription's whole life, posted over HTTP as signed Stripe events to a real server, and
 * applied by a real worker: checkout with a trial, conversion, renewals, a failed payment and
 * its recovery, an upgrade, a downgrade at the period end, cancellation; then refunds and
 * disputes on their own subscriptions.
 */
import { describe, expect, it } from 'vitest';

import { startBillingSystem } from '../../support/billing-fixture.js';
import { PRICES } from '../../support/stripe-events.js';
import { subscriptionStory } from '../../support/subscription-story.js';

describe('a subscription from checkout to cancellation', () => {
  it('issues one trial key, then renews, suspends, recovers, changes plan and cancels it, always the same key', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const sub = story.ids.subscription;
    const run = async (events: ReturnType<typeof story.trialCheckout>) => {
      for (const event of events) expect((await billing.apply(event)).status).toBe('processed');
      const record = await billing.license(sub);
      if (!record) throw new Error('no license');
      return record;
    };

    const issued = await run(story.trialCheckout(PRICES.basic));
    expect(issued.license).toMatchObject({ status: 'active', planId: 'basic', keyType: 'trial', trial: { endsAt: story.at(14) }, periodEndsAt: story.at(14) });
    expect(issued.license.customerId).toMatch(/^cus_/);
    const digest = issued.license.keyDigest;
    // Reported again as facts arrive (the hook is idempotent): the last one knows the e-mail.
    expect(new Set(billing.trials.map((trial) => trial.licenseId))).toEqual(new Set([issued.license.id]));
    expect(billing.trials.at(-1)).toMatchObject({ customerId: issued.license.customerId, email: story.ids.email, stripeSubscriptionId: sub, cardFingerprint: null, ip: null });
    expect((await billing.emails(issued.license.id)).map((e) => [e.kind, e.to, e.dedupeKey])).toEqual([['key_delivery', story.ids.email, `key_delivery:${sub}`]]);

    const converted = await run(story.conversion(PRICES.basic, 44));
    expect(converted.license).toMatchObject({ status: 'active', trial: null, periodEndsAt: story.at(44) });

    const renewed = await run(story.renewal(PRICES.basic, 44, 74));
    expect(renewed.license.periodEndsAt).toEqual(story.at(74));

    const failed = await run(story.failedPayment(PRICES.basic, 74, 104));
    expect(failed.license).toMatchObject({ status: 'suspended', suspension: { reason: 'payment_failed' } });
    expect((await billing.emails(issued.license.id)).map((e) => e.kind)).toEqual(expect.arrayContaining(['payment_failed', 'license_suspended']));

    const recovered = await run(story.recovery(PRICES.basic, 74, 104));
    expect(recovered.license).toMatchObject({ status: 'active', suspension: null, periodEndsAt: story.at(104) });

    const upgraded = await run(story.planChange(PRICES.pro, 74, 104));
    expect(upgraded.license).toMatchObject({ planId: 'pro', limits: { maxActivations: 3 }, pendingChange: null });

    const downgraded = await run(story.planChange(PRICES.basic, 74, 104));
    expect(downgraded.license).toMatchObject({ planId: 'pro', pendingChange: { planId: 'basic', effectiveAt: story.at(104) } });

    const cancelled = await run(story.cancelAtPeriodEnd(PRICES.basic, 74, 104));
    expect(cancelled.license).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    const resumed = await run(story.cancelAtPeriodEnd(PRICES.basic, 74, 104, false));
    expect(resumed.license.cancelAtPeriodEnd).toBe(false);

    const ended = await run(story.deleted(PRICES.basic, 74, 104));
    expect(ended.license).toMatchObject({ status: 'active', cancelAtPeriodEnd: true, periodEndsAt: story.at(104), keyDigest: digest, id: issued.license.id });
    expect(await billing.server.server.keyward.licenses.list({ limit: 10 })).toHaveLength(1);
  });

  it('revokes the license on a full refund, and leaves it on a partial one', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const checkout = story.paidCheckout(PRICES.pro);
    for (const event of checkout.events) await billing.apply(event);
    const [partial] = story.partialRefund(checkout.charge);
    expect(await billing.apply(partial!)).toMatchObject({ status: 'processed', outcome: 'PARTIAL_REFUND' });
    expect((await billing.license(story.ids.subscription))?.license.status).toBe('active');

    const [refund] = story.refund(checkout.charge);
    await billing.apply(refund!);
    const record = await billing.license(story.ids.subscription);
    expect(record?.license).toMatchObject({ status: 'revoked', revocation: { reason: 'refund' } });
    expect((await billing.emails(record!.license.id)).map((e) => e.kind)).toContain('license_revoked');
  });

  it('suspends the license on a dispute, records why, and reports a payment_dispute signal', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const checkout = story.paidCheckout(PRICES.basic);
    for (const event of checkout.events) await billing.apply(event);
    const [dispute] = story.dispute(checkout.charge);
    await billing.apply(dispute!);
    const record = await billing.license(story.ids.subscription);
    expect(record?.license.status).toBe('suspended');
    expect(record?.license.suspension?.reason).toBe('dispute');
    expect(record?.license.suspension?.note).toMatch(/^Stripe dispute dp_\w+: fraudulent$/);
    expect(billing.signals).toContainEqual(
      expect.objectContaining({ kind: 'payment_dispute', subject: { type: 'license', licenseId: record!.license.id }, evidence: expect.objectContaining({ details: expect.objectContaining({ chargeId: checkout.charge }) }) }),
    );
  });
});
