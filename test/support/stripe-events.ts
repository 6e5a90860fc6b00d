/**
 * Stripe events for tests, built from Stripe's own fixture objects (stripe-mock v0.203.0's
 * fixtures3.json, copied to test/fixtures/stripe with its version noted) with only ids, prices,
 * quantities, times, statuses and links changed, in the shape of either API generation:
 * `legacy` (2024-06-20: `current_period_end` on the subscription, `invoice.subscription`,
 * `invoice.charge`, `charge.invoice`) or `current` (from 2025-03-31: periods on the items,
 * `invoice.parent.subscription_details`, charges and invoices linked only by
 * `invoice_payment.paid`); and signed posting to a test server with
 * `Stripe.webhooks.generateTestHeaderString`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Stripe from 'stripe';

/** The webhook signing secret tests configure. */
export const TEST_WEBHOOK_SECRET = 'whsec_test_keyward_billing_secret';

/**
 * Prices the test plan catalogue maps (see BILLING_TEST_PLANS); `proPerSeat` is pro sold per
 * seat (the item's quantity sets the seats); `seats` and `support` are add-ons no plan has.
 */
export const PRICES = {
  basic: 'price_basic_monthly',
  pro: 'price_pro_monthly',
  proPerSeat: 'price_pro_per_seat',
  web: 'price_web_monthly',
  seats: 'price_extra_seats',
  support: 'price_support_addon',
} as const;

/** Plans with Stripe prices: basic < pro (3 seats, or as many as bought per seat) < web. */
export const BILLING_TEST_PLANS = {
  plans: [
    { id: 'basic', rank: 1, limits: { maxActivations: 1, maxDomains: null, validationsPerMonth: null }, trialDays: 14, stripePriceIds: [PRICES.basic] },
    { id: 'pro', rank: 2, limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null }, trialDays: 14, stripePriceIds: [PRICES.pro, { id: PRICES.proPerSeat, perSeat: true }] },
    { id: 'web', rank: 3, limits: { maxActivations: null, maxDomains: 2, validationsPerMonth: null }, stripePriceIds: [PRICES.web, 'price_1PgafmB7WZ01zgkW6dKueIc5'] },
  ],
};

/** The API generation a payload is shaped for. */
export type ApiGeneration = 'legacy' | 'current';

/** The API version each generation's events carry. */
export const API_VERSIONS: Readonly<Record<ApiGeneration, string>> = { legacy: '2024-06-20', current: '2026-08-26.dahlia' };

type Json = Record<string, unknown>;

const FIXTURES = (
  JSON.parse(readFileSync(new URL('../fixtures/stripe/fixtures3-v0.203.0.json', import.meta.url), 'utf8')) as { resources: Record<string, Json> }
).resources;

/** A deep copy of a stripe-mock fixture object. */
export function stripeFixture(name: 'subscription' | 'invoice' | 'invoice_payment' | 'charge' | 'dispute' | 'checkout.session' | 'event'): Json {
  const fixture = FIXTURES[name];
  if (fixture === undefined) throw new Error(`no stripe-mock fixture "${name}"`);
  return structuredClone(fixture);
}

const unix = (date: Date): number => Math.floor(date.getTime() / 1000);
const id = (prefix: string): string => `${prefix}_${randomBytes(8).toString('hex')}`;

/** A Stripe event envelope around an object. */
export interface StripeEventJson {
  readonly id: string;
  readonly object: 'event';
  readonly api_version: string;
  readonly created: number;
  readonly livemode: boolean;
  readonly pending_webhooks: number;
  readonly request: { id: string | null; idempotency_key: string | null };
  readonly type: string;
  readonly data: { object: Json; previous_attributes?: Json };
}

/** Wraps an object in an event of `type` (the fixture event with its id, type, time and object replaced), created at `created`. */
export function stripeEvent(type: string, object: Json, created: Date, previous?: Json, generation: ApiGeneration = 'legacy'): StripeEventJson {
  const event = stripeFixture('event');
  return {
    ...(event as unknown as StripeEventJson),
    id: id('evt'),
    object: 'event',
    api_version: API_VERSIONS[generation],
    created: unix(created),
    livemode: false,
    pending_webhooks: 1,
    type,
    data: { object, ...(previous ? { previous_attributes: previous } : {}) },
  };
}

/** One item of a subscription. */
export interface ItemFields {
  readonly price: string;
  readonly quantity?: number;
}

/** The parts of a subscription the tests vary. */
export interface SubscriptionFields {
  readonly id: string;
  readonly customer: string;
  /** The plan's price: the only item unless `items` says otherwise. */
  readonly price: string;
  /** All items, in order (e.g. an add-on before the plan). Default: one item of `price`. */
  readonly items?: readonly ItemFields[];
  readonly status: 'trialing' | 'active' | 'past_due' | 'unpaid' | 'canceled' | 'incomplete';
  readonly periodStart: Date;
  readonly periodEnd: Date;
  readonly cancelAtPeriodEnd?: boolean;
  readonly trialEnd?: Date | null;
  readonly defaultPaymentMethod?: string | null;
  readonly generation?: ApiGeneration;
}

/** A subscription object: the fixture subscription with these fields. */
export function subscriptionObject(f: SubscriptionFields): Json {
  const generation = f.generation ?? 'legacy';
  const sub = stripeFixture('subscription');
  const template = ((sub['items'] as { data: Json[] }).data[0] ?? {}) as Json;
  const items = (f.items ?? [{ price: f.price }]).map((item, index) => {
    const copy = structuredClone(template);
    copy['id'] = `si_${f.id.slice(4)}_${index}`;
    copy['subscription'] = f.id;
    copy['quantity'] = item.quantity ?? 1;
    copy['price'] = { ...(copy['price'] as Json), id: item.price };
    if (generation === 'current') {
      copy['current_period_start'] = unix(f.periodStart);
      copy['current_period_end'] = unix(f.periodEnd);
    } else {
      delete copy['current_period_start'];
      delete copy['current_period_end'];
    }
    return copy;
  });
  Object.assign(sub, {
    id: f.id,
    customer: f.customer,
    status: f.status,
    created: unix(f.periodStart),
    billing_cycle_anchor: unix(f.periodStart),
    cancel_at_period_end: f.cancelAtPeriodEnd ?? false,
    cancel_at: f.cancelAtPeriodEnd ? unix(f.periodEnd) : null,
    canceled_at: f.status === 'canceled' || f.cancelAtPeriodEnd ? unix(f.periodStart) : null,
    ended_at: f.status === 'canceled' ? unix(f.periodStart) : null,
    default_payment_method: f.defaultPaymentMethod ?? null,
    items: { ...(sub['items'] as Json), data: items, url: `/v1/subscription_items?subscription=${f.id}` },
    trial_start: f.trialEnd ? unix(f.periodStart) : null,
    trial_end: f.trialEnd ? unix(f.trialEnd) : null,
  });
  if (generation === 'legacy') Object.assign(sub, { current_period_start: unix(f.periodStart), current_period_end: unix(f.periodEnd) });
  return sub;
}

/** `customer.subscription.<kind>`. */
export function subscriptionEvent(kind: 'created' | 'updated' | 'deleted', f: SubscriptionFields, created: Date, previous?: Json): StripeEventJson {
  return stripeEvent(`customer.subscription.${kind}`, subscriptionObject(f), created, previous, f.generation ?? 'legacy');
}

/** `checkout.session.completed` for a subscription (`email: null`: a customer without an e-mail address). */
export function checkoutCompleted(f: { subscription: string; customer: string; email: string | null; generation?: ApiGeneration }, created: Date): StripeEventJson {
  const session = stripeFixture('checkout.session');
  Object.assign(session, {
    id: id('cs_test'),
    mode: 'subscription',
    status: 'complete',
    payment_status: 'paid',
    customer: f.customer,
    customer_email: f.email,
    customer_details: { ...(session['customer_details'] as Json), email: f.email, name: 'Test Customer' },
    subscription: f.subscription,
    created: unix(created),
  });
  return stripeEvent('checkout.session.completed', session, created, undefined, f.generation ?? 'legacy');
}

/** The parts of an invoice the tests vary. */
export interface InvoiceFields {
  readonly id: string;
  readonly subscription: string;
  readonly customer: string;
  readonly email: string | null;
  readonly charge: string;
  readonly paymentIntent?: string;
  readonly price: string;
  readonly periodStart: Date;
  readonly periodEnd: Date;
  readonly generation?: ApiGeneration;
}

/** An invoice object: the fixture invoice for one subscription period. */
export function invoiceObject(kind: 'paid' | 'payment_failed', f: InvoiceFields, created: Date): Json {
  const generation = f.generation ?? 'legacy';
  const invoice = stripeFixture('invoice');
  const lines = invoice['lines'] as { data: Json[] } & Json;
  const line = structuredClone(lines.data[0] ?? {});
  Object.assign(line, { id: `il_${f.id.slice(3)}`, invoice: f.id, period: { start: unix(f.periodStart), end: unix(f.periodEnd) }, quantity: 1 });
  if (generation === 'legacy') {
    Object.assign(line, { price: { id: f.price, object: 'price' }, subscription: f.subscription, type: 'subscription' });
    delete line['parent'];
    delete line['pricing'];
  } else {
    line['pricing'] = { type: 'price_details', price_details: { price: f.price, product: 'prod_test' }, unit_amount_decimal: '2000' };
    line['parent'] = { type: 'subscription_item_details', invoice_item_details: null, subscription_item_details: { invoice_item: null, proration: false, proration_details: null, subscription: f.subscription, subscription_item: `si_${f.subscription.slice(4)}_0` } };
  }
  Object.assign(invoice, {
    id: f.id,
    billing_reason: 'subscription_cycle',
    created: unix(created),
    customer: f.customer,
    customer_email: f.email,
    status: kind === 'paid' ? 'paid' : 'open',
    amount_due: 2000,
    amount_paid: kind === 'paid' ? 2000 : 0,
    amount_remaining: kind === 'paid' ? 0 : 2000,
    attempt_count: 1,
    attempted: true,
    period_start: unix(f.periodStart),
    period_end: unix(f.periodStart),
    lines: { ...lines, data: [line], url: `/v1/invoices/${f.id}/lines` },
  });
  if (generation === 'legacy') {
    Object.assign(invoice, { subscription: f.subscription, charge: f.charge, payment_intent: f.paymentIntent ?? null, paid: kind === 'paid' });
    delete invoice['parent'];
  } else {
    delete invoice['subscription'];
    invoice['parent'] = { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription: f.subscription } };
  }
  return invoice;
}

/** `invoice.paid` or `invoice.payment_failed` for one subscription period. */
export function invoiceEvent(kind: 'paid' | 'payment_failed', f: InvoiceFields, created: Date): StripeEventJson {
  return stripeEvent(`invoice.${kind}`, invoiceObject(kind, f, created), created, undefined, f.generation ?? 'legacy');
}

/** `invoice_payment.paid` (API versions from 2025-03-31): the invoice and the payment intent that paid it. */
export function invoicePaymentPaid(f: { invoice: string; paymentIntent: string; charge?: string }, created: Date): StripeEventJson {
  const payment = stripeFixture('invoice_payment');
  Object.assign(payment, {
    id: id('inpay'),
    invoice: f.invoice,
    livemode: false,
    currency: 'usd',
    amount_paid: 2000,
    amount_requested: 2000,
    status: 'paid',
    created: unix(created),
    payment: { type: 'payment_intent', payment_intent: f.paymentIntent, ...(f.charge === undefined ? {} : { charge: f.charge }) },
    status_transitions: { canceled_at: null, paid_at: unix(created) },
  });
  return stripeEvent('invoice_payment.paid', payment, created, undefined, 'current');
}

/** `charge.refunded` (full unless `amountRefunded` says less; `invoice: null` for API versions from 2025-03-31). */
export function chargeRefunded(
  f: { charge: string; invoice: string | null; customer: string; amountRefunded?: number; paymentIntent?: string },
  created: Date,
): StripeEventJson {
  const refunded = f.amountRefunded ?? 2000;
  const charge = stripeFixture('charge');
  Object.assign(charge, {
    id: f.charge,
    amount: 2000,
    amount_captured: 2000,
    amount_refunded: refunded,
    refunded: refunded >= 2000,
    customer: f.customer,
    payment_intent: f.paymentIntent ?? null,
    paid: true,
    captured: true,
    status: 'succeeded',
    created: unix(created),
  });
  // API versions from 2025-03-31 send no `invoice` on a charge.
  if (f.invoice === null) delete charge['invoice'];
  else charge['invoice'] = f.invoice;
  return stripeEvent('charge.refunded', charge, created, undefined, f.invoice === null ? 'current' : 'legacy');
}

/** `charge.dispute.created`. */
export function disputeCreated(f: { charge: string; paymentIntent?: string; reason?: string }, created: Date): StripeEventJson {
  const dispute = stripeFixture('dispute');
  Object.assign(dispute, { id: id('dp'), amount: 2000, charge: f.charge, payment_intent: f.paymentIntent ?? null, currency: 'usd', reason: f.reason ?? 'fraudulent', status: 'needs_response', created: unix(created) });
  return stripeEvent('charge.dispute.created', dispute, created);
}

/** Headers with a valid signature for `payload` (or one made with other secret / time, for attacks). */
export function signatureHeader(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? TEST_WEBHOOK_SECRET,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
}

/** Posts an event (or raw text) to the webhook of a server, signed unless `signature` says otherwise. */
export async function postWebhook(
  baseUrl: string,
  body: StripeEventJson | string,
  options: { signature?: string | null; secret?: string; timestamp?: number } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  const signature = options.signature === undefined ? signatureHeader(payload, options) : options.signature;
  const response = await fetch(`${baseUrl}/v1/stripe/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature === null ? {} : { 'stripe-signature': signature }) },
    body: payload,
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** Fresh Stripe-style ids for one subscription's story. */
export function newStripeIds() {
  return { subscription: id('sub'), customer: id('cus'), email: `buyer+${randomBytes(3).toString('hex')}@example.com` };
}
