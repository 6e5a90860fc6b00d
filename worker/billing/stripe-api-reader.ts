/**
 * Reads current Stripe objects when an event's payload is not enough (Checkout names its
 * subscription only by id; a refund names a charge, not a subscription; a trial's card
 * fingerprint lives on the payment method). Uses the official `stripe` library, which retries
 * network failures with backoff and speaks to stripe-mock in tests.
 */
import Stripe from 'stripe';

import type { SubscriptionSnapshot } from '../../lib/billing/billing-event.js';
import { snapshotOf } from '../../lib/billing/normalize-stripe-event.js';
import type { BillingConfig } from './billing-config.js';
import { BillingJobError } from './billing-job-error.js';

/** What billing reads from the Stripe API. */
export interface StripeApiReader {
  /** The subscription as it is now. */
  subscription(id: string): Promise<SubscriptionSnapshot>;
  /** The subscription an invoice belongs to, or `null`. */
  subscriptionOfInvoice(invoiceId: string): Promise<string | null>;
  /** The invoice a charge paid, or `null` (API versions from 2025-03-31 no longer link them on the charge). */
  invoiceOfCharge(chargeId: string): Promise<string | null>;
  /** The invoice a payment intent paid (invoice payments, API versions from 2025-03-31), or `null`. */
  invoiceOfPaymentIntent(paymentIntentId: string): Promise<string | null>;
  /** The card fingerprint of a payment method, or `null` when it is not a card. */
  cardFingerprint(paymentMethodId: string): Promise<string | null>;
}

const idOf = (value: string | { id: string } | null | undefined): string | null => (value === null || value === undefined ? null : typeof value === 'string' ? value : value.id);

/** Turns a Stripe library error into a retryable or final billing job error. */
function mapStripeError(operation: string, error: unknown): BillingJobError {
  if (error instanceof Stripe.errors.StripeError) {
    const status = error.statusCode ?? 0;
    const retry = error instanceof Stripe.errors.StripeConnectionError || error instanceof Stripe.errors.StripeRateLimitError || status >= 500 || status === 0;
    return new BillingJobError(retry ? 'STRIPE_API_UNAVAILABLE' : 'STRIPE_API_REFUSED', `Stripe ${operation} failed: ${error.message}`, { retry, cause: error });
  }
  return new BillingJobError('STRIPE_API_UNAVAILABLE', `Stripe ${operation} failed.`, { retry: true, cause: error });
}

/** {@link StripeApiReader} on the official client. */
export function createStripeApiReader(api: NonNullable<BillingConfig['stripeApi']>): StripeApiReader {
  const stripe = new Stripe(api.apiKey, {
    maxNetworkRetries: 2,
    timeout: 10_000,
    telemetry: false,
    ...(api.host === undefined ? {} : { host: api.host }),
    ...(api.port === undefined ? {} : { port: api.port }),
    ...(api.protocol === undefined ? {} : { protocol: api.protocol }),
  });
  const call = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw mapStripeError(operation, error);
    }
  };
  return {
    async subscription(id) {
      const object = await call('subscriptions.retrieve', () => stripe.subscriptions.retrieve(id));
      const snapshot = snapshotOf(object);
      if (!snapshot.ok) throw new BillingJobError('MALFORMED_EVENT', `Stripe subscription ${id} could not be read: ${snapshot.message}`, { retry: false });
      return snapshot.snapshot;
    },
    async subscriptionOfInvoice(invoiceId) {
      const invoice = await call('invoices.retrieve', () => stripe.invoices.retrieve(invoiceId));
      const legacy = (invoice as unknown as { subscription?: string | { id: string } | null }).subscription;
      return idOf(legacy) ?? idOf(invoice.parent?.subscription_details?.subscription);
    },
    async invoiceOfCharge(chargeId) {
      const charge = await call('charges.retrieve', () => stripe.charges.retrieve(chargeId));
      return idOf((charge as unknown as { invoice?: string | { id: string } | null }).invoice);
    },
    async invoiceOfPaymentIntent(paymentIntentId) {
      const page = await call('invoicePayments.list', () => stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: paymentIntentId }, limit: 1 }));
      return idOf(page.data[0]?.invoice);
    },
    async cardFingerprint(paymentMethodId) {
      const method = await call('paymentMethods.retrieve', () => stripe.paymentMethods.retrieve(paymentMethodId));
      return method.card?.fingerprint ?? null;
    },
  };
}
