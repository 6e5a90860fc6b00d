/**
 * Stripe events for tests, in the shapes Stripe documents (webhook endpoint pinned to API
 * version 2024-06-20: `current_period_end` on the subscription, `invoice.subscription`,
 * `invoice.charge`, `charge.invoice`), and signed posting to a test server with
 * `Stripe.webhooks.generateTestHeaderString`.
 */
import { randomBytes } from 'node:crypto';

import Stripe from 'stripe';

/** The webhook signing secret tests configure. */
export const TEST_WEBHOOK_SECRET = 'whsec_test_keyward_billing_secret';

/** Prices the test plan catalogue maps (see BILLING_TEST_PLANS). */
export const PRICES = { basic: 'price_basic_monthly', pro: 'price_pro_monthly', web: 'price_web_monthly' } as const;

/** Plans with Stripe prices: basic < pro < web. */
export const BILLING_TEST_PLANS = {
  plans: [
    { id: 'basic', rank: 1, limits: { maxActivations: 1, maxDomains: null, validationsPerMonth: null }, trialDays: 14, stripePriceIds: [PRICES.basic] },
    { id: 'pro', rank: 2, limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null }, trialDays: 14, stripePriceIds: [PRICES.pro] },
    { id: 'web', rank: 3, limits: { maxActivations: null, maxDomains: 2, validationsPerMonth: null }, stripePriceIds: [PRICES.web, 'price_1PgafmB7WZ01zgkW6dKueIc5'] },
  ],
};

const unix = (date: Date): number => Math.floor(date.getTime() / 1000);
const id = (prefix: string): string => `${prefix}_${randomBytes(8).toString('hex')}`;

/** A Stripe event envelope around an object. */
export interface StripeEventJson {
  readonly id: string;
  readonly object: 'event';
  readonly api_version: string;
  readonly created: number;
  readonly livemode: false;
  readonly pending_webhooks: number;
  readonly request: { id: string | null; idempotency_key: string | null };
  readonly type: string;
  readonly data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}

/** Wraps an object in an event of `type`, created at `created`. */
export function stripeEvent(type: string, object: Record<string, unknown>, created: Date, previous?: Record<string, unknown>): StripeEventJson {
  return {
    id: id('evt'),
    object: 'event',
    api_version: '2024-06-20',
    created: unix(created),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object, ...(previous ? { previous_attributes: previous } : {}) },
  };
}

/** The parts of a subscription the tests vary. */
export interface SubscriptionFields {
  readonly id: string;
  readonly customer: string;
  readonly price: string;
  readonly status: 'trialing' | 'active' | 'past_due' | 'unpaid' | 'canceled' | 'incomplete';
  readonly periodStart: Date;
  readonly periodEnd: Date;
  readonly cancelAtPeriodEnd?: boolean;
  readonly trialEnd?: Date | null;
  readonly defaultPaymentMethod?: string | null;
}

/** A subscription object. */
export function subscriptionObject(f: SubscriptionFields): Record<string, unknown> {
  return {
    id: f.id,
    object: 'subscription',
    customer: f.customer,
    status: f.status,
    cancel_at_period_end: f.cancelAtPeriodEnd ?? false,
    canceled_at: f.status === 'canceled' ? unix(f.periodStart) : null,
    collection_method: 'charge_automatically',
    currency: 'usd',
    current_period_start: unix(f.periodStart),
    current_period_end: unix(f.periodEnd),
    default_payment_method: f.defaultPaymentMethod ?? null,
    items: {
      object: 'list',
      data: [
        {
          id: `si_${f.id.slice(4)}`,
          object: 'subscription_item',
          price: { id: f.price, object: 'price', currency: 'usd', recurring: { interval: 'month', interval_count: 1 }, unit_amount: 2000 },
          quantity: 1,
          subscription: f.id,
        },
      ],
      has_more: false,
    },
    livemode: false,
    metadata: {},
    trial_start: f.trialEnd ? unix(f.periodStart) : null,
    trial_end: f.trialEnd ? unix(f.trialEnd) : null,
  };
}

/** `customer.subscription.<kind>`. */
export function subscriptionEvent(kind: 'created' | 'updated' | 'deleted', f: SubscriptionFields, created: Date, previous?: Record<string, unknown>): StripeEventJson {
  return stripeEvent(`customer.subscription.${kind}`, subscriptionObject(f), created, previous);
}

/** `checkout.session.completed` for a subscription. */
export function checkoutCompleted(f: { subscription: string; customer: string; email: string }, created: Date): StripeEventJson {
  return stripeEvent(
    'checkout.session.completed',
    {
      id: id('cs_test'),
      object: 'checkout.session',
      mode: 'subscription',
      status: 'complete',
      payment_status: 'paid',
      customer: f.customer,
      customer_details: { email: f.email, name: 'Test Customer' },
      subscription: f.subscription,
      amount_total: 2000,
      currency: 'usd',
    },
    created,
  );
}

/** `invoice.paid` or `invoice.payment_failed` for one subscription period. */
export function invoiceEvent(
  kind: 'paid' | 'payment_failed',
  f: { id: string; subscription: string; customer: string; email: string; charge: string; price: string; periodStart: Date; periodEnd: Date },
  created: Date,
): StripeEventJson {
  return stripeEvent(
    `invoice.${kind}`,
    {
      id: f.id,
      object: 'invoice',
      billing_reason: 'subscription_cycle',
      customer: f.customer,
      customer_email: f.email,
      subscription: f.subscription,
      charge: f.charge,
      paid: kind === 'paid',
      status: kind === 'paid' ? 'paid' : 'open',
      amount_due: 2000,
      amount_paid: kind === 'paid' ? 2000 : 0,
      attempt_count: 1,
      lines: {
        object: 'list',
        data: [{ id: `il_${f.id.slice(3)}`, object: 'line_item', type: 'subscription', price: { id: f.price }, period: { start: unix(f.periodStart), end: unix(f.periodEnd) } }],
        has_more: false,
      },
    },
    created,
  );
}

/** `charge.refunded` (full unless `amountRefunded` says less). */
export function chargeRefunded(
  f: { charge: string; invoice: string | null; customer: string; amountRefunded?: number; paymentIntent?: string },
  created: Date,
): StripeEventJson {
  const refunded = f.amountRefunded ?? 2000;
  return stripeEvent(
    'charge.refunded',
    {
      id: f.charge,
      object: 'charge',
      amount: 2000,
      amount_refunded: refunded,
      refunded: refunded >= 2000,
      customer: f.customer,
      // API versions from 2025-03-31 send no `invoice` on a charge.
      ...(f.invoice === null ? {} : { invoice: f.invoice }),
      payment_intent: f.paymentIntent ?? null,
      paid: true,
      status: 'succeeded',
    },
    created,
  );
}

/** `charge.dispute.created`. */
export function disputeCreated(f: { charge: string; reason?: string }, created: Date): StripeEventJson {
  return stripeEvent(
    'charge.dispute.created',
    { id: id('dp'), object: 'dispute', amount: 2000, charge: f.charge, currency: 'usd', reason: f.reason ?? 'fraudulent', status: 'needs_response' },
    created,
  );
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
