/**
 * Reads a verified Stripe event into a {@link BillingEvent}. Lenient about what billing does
 * not use, strict about what it does: a payload without the fields a handled type needs is
 * MALFORMED_EVENT (recorded, never retried). Both the shapes before and after API version
 * 2025-03-31 are read (period end on the subscription or its item; invoice subscription at the
 * top or under `parent.subscription_details`).
 */
import { z } from 'zod';

import type { BillingEvent, PreviousSubscriptionAttributes, SubscriptionSnapshot } from './billing-event.js';

/** Outcome of {@link normalizeStripeEvent}. */
export type NormalizeResult =
  | { readonly ok: true; readonly event: BillingEvent }
  | { readonly ok: false; readonly code: 'MALFORMED_EVENT'; readonly message: string };

const id = z.string().min(1).max(255);
/** A reference that may be an id or an expanded object. */
const ref = z.union([id, z.looseObject({ id }).transform((o) => o.id)]).nullish().transform((v) => v ?? null);
const unixTime = z.number().int().nonnegative().nullish().transform((v) => (v === null || v === undefined ? null : new Date(v * 1000)));

const envelope = z.looseObject({
  id: id.regex(/^evt_/, 'must be an event id (evt_…)'),
  type: z.string().min(1).max(128),
  created: z.number().int().nonnegative(),
  data: z.looseObject({ object: z.looseObject({}), previous_attributes: z.looseObject({}).nullish() }),
});

const subscriptionItem = z.looseObject({
  price: z.looseObject({ id }).nullish(),
  quantity: z.number().int().nonnegative().nullish(),
  current_period_start: z.number().int().nullish(),
  current_period_end: z.number().int().nullish(),
});

const status = z.enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused']);

const subscription = z.looseObject({
  id,
  customer: ref,
  status,
  cancel_at_period_end: z.boolean().nullish(),
  current_period_start: z.number().int().nullish(),
  current_period_end: z.number().int().nullish(),
  trial_end: unixTime,
  default_payment_method: ref,
  items: z.looseObject({ data: z.array(subscriptionItem) }).nullish(),
});

const checkoutSession = z.looseObject({
  mode: z.string().nullish(),
  subscription: ref,
  customer: ref,
  customer_email: z.string().nullish(),
  customer_details: z.looseObject({ email: z.string().nullish() }).nullish(),
});

/** The fields of `previous_attributes` that order snapshots (anything else is ignored). */
const previousAttributes = z.looseObject({
  status: status.optional(),
  cancel_at_period_end: z.boolean().nullish(),
  current_period_end: z.number().int().nullish(),
  items: z.looseObject({ data: z.array(subscriptionItem) }).nullish(),
});

const invoicePayment = z.looseObject({
  invoice: ref,
  payment: z.looseObject({ payment_intent: ref, charge: ref }).nullish(),
});

const invoice = z.looseObject({
  id,
  subscription: ref,
  parent: z.looseObject({ subscription_details: z.looseObject({ subscription: ref }).nullish() }).nullish(),
  charge: ref,
  payment_intent: ref,
  customer: ref,
  customer_email: z.string().nullish(),
  lines: z.looseObject({ data: z.array(z.looseObject({ period: z.looseObject({ end: z.number().int() }).nullish() })) }).nullish(),
});

const charge = z.looseObject({
  id,
  invoice: ref,
  payment_intent: ref,
  customer: ref,
  amount: z.number().int().nonnegative(),
  amount_refunded: z.number().int().nonnegative(),
  refunded: z.boolean().nullish(),
});

const dispute = z.looseObject({ id, charge: ref, payment_intent: ref, reason: z.string().nullish() });

const toDate = (seconds: number | null | undefined): Date | null => (seconds === null || seconds === undefined ? null : new Date(seconds * 1000));
const latest = (values: ReadonlyArray<number | null | undefined>): number | null =>
  values.reduce<number | null>((best, value) => (value === null || value === undefined || (best !== null && best >= value) ? best : value), null);

/** A subscription object (from an event or the API) as a snapshot. */
export function snapshotOf(object: unknown): { ok: true; snapshot: SubscriptionSnapshot } | { ok: false; message: string } {
  const parsed = subscription.safeParse(object);
  if (!parsed.success) return { ok: false, message: issuesOf(parsed.error) };
  const sub = parsed.data;
  const items = sub.items?.data ?? [];
  // Since 2025-03-31 each item has its own period; the subscription's is the latest of them.
  const periodStart = sub.current_period_start ?? latest(items.map((item) => item.current_period_start));
  const periodEnd = sub.current_period_end ?? latest(items.map((item) => item.current_period_end));
  return {
    ok: true,
    snapshot: {
      subscriptionId: sub.id,
      stripeCustomerId: sub.customer,
      status: sub.status,
      items: items.flatMap((item) => (item.price ? [{ priceId: item.price.id, quantity: item.quantity ?? 1 }] : [])),
      currentPeriodStart: toDate(periodStart),
      currentPeriodEnd: toDate(periodEnd),
      cancelAtPeriodEnd: sub.cancel_at_period_end ?? false,
      trialEnd: sub.trial_end,
      defaultPaymentMethod: sub.default_payment_method,
    },
  };
}

/** The ordering fields of an `updated` event's `previous_attributes`, or `null` when it names none. */
function previousOf(raw: unknown): PreviousSubscriptionAttributes | null {
  if (raw === null || raw === undefined) return null;
  const parsed = previousAttributes.safeParse(raw);
  if (!parsed.success) return null;
  const p = parsed.data;
  const previous: PreviousSubscriptionAttributes = {
    ...(p.status === undefined ? {} : { status: p.status }),
    ...(p.cancel_at_period_end === undefined || p.cancel_at_period_end === null ? {} : { cancelAtPeriodEnd: p.cancel_at_period_end }),
    ...(p.current_period_end === undefined ? {} : { currentPeriodEnd: toDate(p.current_period_end) }),
    ...(p.items === undefined || p.items === null ? {} : { priceIds: p.items.data.flatMap((item) => (item.price ? [item.price.id] : [])) }),
    // Quantities order seat changes only when every item states its own (no guessed 1s).
    ...(p.items === undefined || p.items === null || !p.items.data.every((item) => !item.price || typeof item.quantity === 'number')
      ? {}
      : { quantities: p.items.data.flatMap((item) => (item.price && typeof item.quantity === 'number' ? [item.quantity] : [])) }),
  };
  return Object.keys(previous).length === 0 ? null : previous;
}

function issuesOf(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(object)'}: ${issue.message}`)
    .join('; ');
}

const malformed = (message: string): NormalizeResult => ({ ok: false, code: 'MALFORMED_EVENT', message });

/**
 * The billing reading of a Stripe event (already verified and JSON-parsed).
 *
 * @param raw - The event as Stripe sent it.
 */
export function normalizeStripeEvent(raw: unknown): NormalizeResult {
  const parsedEnvelope = envelope.safeParse(raw);
  if (!parsedEnvelope.success) return malformed(issuesOf(parsedEnvelope.error));
  const { id: eventId, type, created: createdSeconds, data } = parsedEnvelope.data;
  const previous = data.previous_attributes;
  const base = { eventId, created: new Date(createdSeconds * 1000) };
  const object: unknown = data.object;
  const read = <S extends z.ZodType>(schema: S): z.output<S> | string => {
    const parsed = schema.safeParse(object);
    return parsed.success ? parsed.data : `${type}: ${issuesOf(parsed.error)}`;
  };

  switch (type) {
    case 'checkout.session.completed': {
      const session = read(checkoutSession);
      if (typeof session === 'string') return malformed(session);
      if (session.subscription === null) return { ok: true, event: { ...base, type: 'ignored', stripeType: type, why: 'NOT_A_SUBSCRIPTION' } };
      const email = session.customer_details?.email ?? session.customer_email ?? null;
      return { ok: true, event: { ...base, type: 'checkout_completed', subscriptionId: session.subscription, stripeCustomerId: session.customer, email } };
    }
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
    case 'customer.subscription.paused':
    case 'customer.subscription.resumed':
    case 'customer.subscription.trial_will_end': {
      const snapshot = snapshotOf(object);
      if (!snapshot.ok) return malformed(`${type}: ${snapshot.message}`);
      return { ok: true, event: { ...base, type: 'subscription_changed', snapshot: snapshot.snapshot, deleted: type === 'customer.subscription.deleted', previous: previousOf(previous) } };
    }
    case 'invoice.paid':
    case 'invoice.payment_succeeded':
    case 'invoice.payment_failed': {
      const inv = read(invoice);
      if (typeof inv === 'string') return malformed(inv);
      const subscriptionId = inv.subscription ?? inv.parent?.subscription_details?.subscription ?? null;
      if (subscriptionId === null) return { ok: true, event: { ...base, type: 'ignored', stripeType: type, why: 'NOT_A_SUBSCRIPTION' } };
      const common = { subscriptionId, invoiceId: inv.id, chargeId: inv.charge, paymentIntentId: inv.payment_intent, stripeCustomerId: inv.customer, email: inv.customer_email ?? null };
      if (type === 'invoice.payment_failed') return { ok: true, event: { ...base, type: 'invoice_payment_failed', ...common } };
      const ends = (inv.lines?.data ?? []).flatMap((line) => (line.period ? [line.period.end] : []));
      const periodEndsAt = ends.length === 0 ? null : new Date(Math.max(...ends) * 1000);
      return { ok: true, event: { ...base, type: 'invoice_paid', ...common, periodEndsAt } };
    }
    case 'invoice_payment.paid': {
      const payment = read(invoicePayment);
      if (typeof payment === 'string') return malformed(payment);
      if (payment.invoice === null) return malformed(`${type}: invoice: required`);
      const event = { ...base, type: 'invoice_payment_paid' as const, invoiceId: payment.invoice, paymentIntentId: payment.payment?.payment_intent ?? null, chargeId: payment.payment?.charge ?? null };
      return { ok: true, event };
    }
    case 'charge.refunded': {
      const ch = read(charge);
      if (typeof ch === 'string') return malformed(ch);
      const fullyRefunded = ch.refunded === true || (ch.amount > 0 && ch.amount_refunded >= ch.amount);
      return { ok: true, event: { ...base, type: 'charge_refunded', chargeId: ch.id, invoiceId: ch.invoice, paymentIntentId: ch.payment_intent, stripeCustomerId: ch.customer, fullyRefunded } };
    }
    case 'charge.dispute.created': {
      const dp = read(dispute);
      if (typeof dp === 'string') return malformed(dp);
      if (dp.charge === null) return malformed(`${type}: charge: required`);
      return { ok: true, event: { ...base, type: 'dispute_created', disputeId: dp.id, chargeId: dp.charge, paymentIntentId: dp.payment_intent, reason: dp.reason ?? 'unknown' } };
    }
    default:
      return { ok: true, event: { ...base, type: 'ignored', stripeType: type, why: 'UNHANDLED_TYPE' } };
  }
}
