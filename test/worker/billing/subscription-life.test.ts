/**
 * A subscription's whole life, posted over HTTP as signed Stripe events to a real server, and
 * applied by a real worker: checkout with a trial, conversion, renewals, a failed payment and
 * its recovery, an upgrade, a downgrade at the period end, cancellation; then refunds and
 * disputes on their own subscriptions.
 */
import { describe, expect, it } from 'vitest';

import { DEFAULT_BILLING_CONFIG } from '../../../worker/billing/billing-config.js';
import { startBillingSystem } from '../../support/billing-fixture.js';
import { checkoutCompleted, PRICES, subscriptionEvent, type StripeEventJson } from '../../support/stripe-events.js';
import { subscriptionStory } from '../../support/subscription-story.js';

describe('a subscription from checkout to cancellation', () => {
  it('issues one trial key, then renews, suspends, recovers, changes plan and cancels it, always the same key', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const sub = story.ids.subscription;
    // Each paid (or trial) period is padded by the renewal grace, so a late renewal never expires the key.
    const paidUntil = (days: number) => new Date(story.at(days).getTime() + DEFAULT_BILLING_CONFIG.renewalGraceMs);
    const run = async (events: ReturnType<typeof story.trialCheckout>) => {
      for (const event of events) expect((await billing.apply(event)).status).toBe('processed');
      const record = await billing.license(sub);
      if (!record) throw new Error('no license');
      return record;
    };

    const issued = await run(story.trialCheckout(PRICES.basic));
    expect(issued.license).toMatchObject({ status: 'active', planId: 'basic', keyType: 'trial', trial: { endsAt: story.at(14) }, periodEndsAt: paidUntil(14) });
    expect(issued.license.customerId).toMatch(/^cus_/);
    const digest = issued.license.keyDigest;
    // Reported again as facts arrive (the hook is idempotent): the last one knows the e-mail.
    expect(new Set(billing.trials.map((trial) => trial.licenseId))).toEqual(new Set([issued.license.id]));
    expect(billing.trials.at(-1)).toMatchObject({ customerId: issued.license.customerId, email: story.ids.email, stripeSubscriptionId: sub, cardFingerprint: null, ip: null });
    expect((await billing.emails(issued.license.id)).map((e) => [e.kind, e.to, e.dedupeKey])).toEqual([['key_delivery', story.ids.email, `key_delivery:${sub}`]]);

    const converted = await run(story.conversion(PRICES.basic, 44));
    expect(converted.license).toMatchObject({ status: 'active', trial: null, periodEndsAt: paidUntil(44) });

    const renewed = await run(story.renewal(PRICES.basic, 44, 74));
    expect(renewed.license.periodEndsAt).toEqual(paidUntil(74));

    const failed = await run(story.failedPayment(PRICES.basic, 74, 104));
    expect(failed.license).toMatchObject({ status: 'suspended', suspension: { reason: 'payment_failed' } });
    expect((await billing.emails(issued.license.id)).map((e) => e.kind)).toEqual(expect.arrayContaining(['payment_failed', 'license_suspended']));

    const recovered = await run(story.recovery(PRICES.basic, 74, 104));
    expect(recovered.license).toMatchObject({ status: 'active', suspension: null, periodEndsAt: paidUntil(104) });

    const upgraded = await run(story.planChange(PRICES.pro, 74, 104));
    expect(upgraded.license).toMatchObject({ planId: 'pro', limits: { maxActivations: 3 }, pendingChange: null });

    const downgraded = await run(story.planChange(PRICES.basic, 74, 104));
    expect(downgraded.license).toMatchObject({ planId: 'pro', pendingChange: { planId: 'basic', effectiveAt: paidUntil(104) } });

    const cancelled = await run(story.cancelAtPeriodEnd(PRICES.basic, 74, 104));
    expect(cancelled.license).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    const resumed = await run(story.cancelAtPeriodEnd(PRICES.basic, 74, 104, false));
    expect(resumed.license.cancelAtPeriodEnd).toBe(false);

    const ended = await run(story.deleted(PRICES.basic, 74, 104));
    expect(ended.license).toMatchObject({ status: 'active', cancelAtPeriodEnd: true, periodEndsAt: paidUntil(104), keyDigest: digest, id: issued.license.id });
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

describe('a failed payment within its grace period', () => {
  it('suspends only when the grace has run out, through a delayed recheck', async () => {
    const graceMs = 2_000;
    const billing = await startBillingSystem({ billing: { paymentGraceMs: graceMs } });
    const story = subscriptionStory(new Date(Math.floor(Date.now() / 1000) * 1000));
    for (const event of story.paidCheckout(PRICES.basic).events) await billing.apply(event);
    const [failure] = story.failedPayment(PRICES.basic, 30, 60);
    await billing.apply(failure!);
    const failedAt = failure!.created * 1000;

    let record = await billing.license(story.ids.subscription);
    for (let i = 0; i < 500 && record?.license.status !== 'suspended'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      record = await billing.license(story.ids.subscription);
    }
    const trail = await billing.server.server.keyward.licenses.auditTrail(record!.license.id, { limit: 50 });
    const suspension = trail.find((entry) => entry.command === 'suspend');
    expect(suspension).toMatchObject({ cause: { actor: 'stripe', ref: expect.stringMatching(/^recheck:/) } });
    expect(suspension!.at.getTime()).toBeGreaterThanOrEqual(failedAt + graceMs);
    // The e-mail follows the suspension in the same job.
    let kinds: string[] = [];
    for (let i = 0; i < 500 && !kinds.includes('license_suspended'); i++) {
      kinds = (await billing.emails(record!.license.id)).map((e) => e.kind);
      if (!kinds.includes('license_suspended')) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(kinds).toEqual(['key_delivery', 'payment_failed', 'license_suspended']);
  });
});

describe('delivery orders Stripe really produces (issue 12)', () => {
  it('issues the key for a default_incomplete checkout whose created and updated events share one second, the updated id sorting first', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const second = story.at(0);
    const fields = { id: story.ids.subscription, customer: story.ids.customer, price: PRICES.pro, periodStart: second, periodEnd: story.at(30) };
    // Event ids carry no order; the updated one sorts first here.
    const created = { ...subscriptionEvent('created', { ...fields, status: 'incomplete' }, second), id: `evt_zz${story.ids.subscription.slice(4)}` };
    const updated = { ...subscriptionEvent('updated', { ...fields, status: 'active' }, second, { status: 'incomplete' }), id: `evt_aa${story.ids.subscription.slice(4)}` };
    const checkout = checkoutCompleted({ subscription: story.ids.subscription, customer: story.ids.customer, email: story.ids.email }, second);
    for (const event of [created, updated, checkout]) await billing.apply(event);
    expect((await billing.license(story.ids.subscription))?.license).toMatchObject({ status: 'active', planId: 'pro' });
  });

  it('keeps a paid upgrade when the later downgrade arrives first: basic, web at t+2, pro at t+6', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const checkout = story.paidCheckout(PRICES.basic);
    const [toWeb] = story.planChange(PRICES.web, 0, 30);
    const [toPro] = story.planChange(PRICES.pro, 0, 30);
    for (const event of [toPro!, ...checkout.events, toWeb!]) await billing.apply(event);
    expect((await billing.license(story.ids.subscription))?.license).toMatchObject({ planId: 'web', pendingChange: { planId: 'pro' } });
  });

  it('provisions a subscription whose first item is an add-on and whose plan price is on a later item', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const checkout = story.paidCheckout(PRICES.pro, [{ price: PRICES.seats, quantity: 5 }, { price: PRICES.pro }]);
    for (const event of checkout.events) expect(await billing.apply(event)).toMatchObject({ status: 'processed', error: null });
    expect((await billing.license(story.ids.subscription))?.license).toMatchObject({ status: 'active', planId: 'pro' });
  });

  it('gives a per-seat subscription as many seats as it bought: more at once, fewer at the period end', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const sub = story.ids.subscription;
    const paidUntil = (days: number) => new Date(story.at(days).getTime() + DEFAULT_BILLING_CONFIG.renewalGraceMs);
    const run = async (events: readonly StripeEventJson[]) => {
      for (const event of events) expect(await billing.apply(event)).toMatchObject({ status: 'processed', error: null });
      return (await billing.license(sub))?.license;
    };
    const checkout = story.paidCheckout(PRICES.proPerSeat, [{ price: PRICES.seats, quantity: 2 }, { price: PRICES.proPerSeat, quantity: 7 }]);
    expect(await run(checkout.events)).toMatchObject({ planId: 'pro', limits: { maxActivations: 7 }, pendingChange: null });
    expect(await run(story.quantityChange(PRICES.proPerSeat, 7, 10, 0, 30))).toMatchObject({ limits: { maxActivations: 10 }, pendingChange: null });
    expect(await run(story.quantityChange(PRICES.proPerSeat, 10, 4, 0, 30))).toMatchObject({
      limits: { maxActivations: 10 },
      pendingChange: { planId: 'pro', limits: { maxActivations: 4 }, effectiveAt: paidUntil(30) },
    });
    // Buying seats back before the period end drops the pending reduction.
    expect(await run(story.quantityChange(PRICES.proPerSeat, 4, 10, 0, 30))).toMatchObject({ limits: { maxActivations: 10 }, pendingChange: null });
  });

  it('issues the license for a checkout without a customer e-mail, and records the key delivery it could not send', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory(undefined, { email: null });
    const checkout = story.paidCheckout(PRICES.basic);
    const applied = [];
    for (const event of checkout.events) applied.push(await billing.apply(event));
    const record = await billing.license(story.ids.subscription);
    expect(record?.license).toMatchObject({ status: 'active', planId: 'basic' });
    expect(await billing.emails(record!.license.id)).toEqual([]);
    expect(applied.at(-1)).toMatchObject({ status: 'processed', undeliveredEmails: ['key_delivery'] });
    const listed = await billing.events.list({ undelivered: true, limit: 10 });
    expect(listed.map((event) => event._id)).toEqual(expect.arrayContaining([checkout.events.at(-1)!.id]));
  });
});
