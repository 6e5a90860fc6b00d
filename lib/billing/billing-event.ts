/**
 * Stripe events as billing reads them: only the fields that decide a license, under one
 * closed union, whatever API version shaped the payload. Plain data.
 */

/** Subscription statuses Stripe documents. */
export type SubscriptionStatus = 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused';

/** One item of a subscription: a price and how many units of it. */
export interface SubscriptionItemFact {
  readonly priceId: string;
  /** Units bought (`quantity`; 1 when Stripe leaves it out). */
  readonly quantity: number;
}

/** A subscription as one event (or an API read) showed it. */
export interface SubscriptionSnapshot {
  readonly subscriptionId: string;
  readonly stripeCustomerId: string | null;
  readonly status: SubscriptionStatus;
  /** Every item, in Stripe's order: the plan is the first whose price the catalogue knows (add-ons may come first). */
  readonly items: readonly SubscriptionItemFact[];
  /** Start of the current period (`current_period_start`, on the items since API 2025-03-31). */
  readonly currentPeriodStart: Date | null;
  /** End of the current period (`current_period_end`, on the items since API 2025-03-31: the latest item's). */
  readonly currentPeriodEnd: Date | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly trialEnd: Date | null;
  /** Payment method id, for the card fingerprint of a trial. */
  readonly defaultPaymentMethod: string | null;
}

/**
 * What an `updated` event's `previous_attributes` said the subscription was just before it, for
 * the fields that order snapshots (absent fields did not change). It orders snapshots that share
 * one `created` second: a snapshot whose previous values are another's current ones came after it.
 */
export interface PreviousSubscriptionAttributes {
  readonly status?: SubscriptionStatus;
  readonly cancelAtPeriodEnd?: boolean;
  readonly currentPeriodEnd?: Date | null;
  /** The item prices before, when `items` changed. */
  readonly priceIds?: readonly string[];
  /** The items' quantities before (in the order of `priceIds`), when `items` changed: orders seat changes made in one second. */
  readonly quantities?: readonly number[];
}

interface Base<T extends string> {
  readonly type: T;
  /** Stripe event id (`evt_…`). */
  readonly eventId: string;
  /** When Stripe created the event: orders events about one object. */
  readonly created: Date;
}

/** `checkout.session.completed` in subscription mode. */
export interface CheckoutCompleted extends Base<'checkout_completed'> {
  readonly subscriptionId: string;
  readonly stripeCustomerId: string | null;
  readonly email: string | null;
}

/** `customer.subscription.created/updated/deleted/paused/resumed/trial_will_end`. */
export interface SubscriptionChanged extends Base<'subscription_changed'> {
  readonly snapshot: SubscriptionSnapshot;
  /** `customer.subscription.deleted`: the subscription is over, whatever its status says. */
  readonly deleted: boolean;
  /** `previous_attributes` of an `updated` event, or `null`. */
  readonly previous: PreviousSubscriptionAttributes | null;
}

/** `invoice.paid` (and `invoice.payment_succeeded`) for a subscription invoice. */
export interface InvoicePaid extends Base<'invoice_paid'> {
  readonly subscriptionId: string;
  readonly invoiceId: string;
  /** The invoice's charge and payment intent (API versions before 2025-03-31 name them). */
  readonly chargeId: string | null;
  readonly paymentIntentId: string | null;
  readonly stripeCustomerId: string | null;
  readonly email: string | null;
  /** Latest period end among the invoice's lines: what the payment pays for. */
  readonly periodEndsAt: Date | null;
}

/** `invoice.payment_failed` for a subscription invoice. */
export interface InvoicePaymentFailed extends Base<'invoice_payment_failed'> {
  readonly subscriptionId: string;
  readonly invoiceId: string;
  readonly chargeId: string | null;
  readonly paymentIntentId: string | null;
  readonly stripeCustomerId: string | null;
  readonly email: string | null;
}

/**
 * `invoice_payment.paid` (API versions from 2025-03-31): the one payload that ties a payment
 * (its payment intent or charge) to its invoice, so refunds and disputes link without the API.
 */
export interface InvoicePaymentPaid extends Base<'invoice_payment_paid'> {
  readonly invoiceId: string;
  readonly paymentIntentId: string | null;
  readonly chargeId: string | null;
}

/** `charge.refunded`. */
export interface ChargeRefunded extends Base<'charge_refunded'> {
  readonly chargeId: string;
  /** The invoice the charge paid, when the payload names it (API versions before 2025-03-31). */
  readonly invoiceId: string | null;
  /** The charge's payment intent: links it to its invoice through the API's invoice payments (API versions from 2025-03-31). */
  readonly paymentIntentId: string | null;
  readonly stripeCustomerId: string | null;
  /** The whole amount was refunded (a partial refund changes nothing). */
  readonly fullyRefunded: boolean;
}

/** `charge.dispute.created`. */
export interface DisputeCreated extends Base<'dispute_created'> {
  readonly disputeId: string;
  readonly chargeId: string;
  readonly paymentIntentId: string | null;
  /** Stripe's dispute reason, e.g. `fraudulent`. */
  readonly reason: string;
}

/** An event that is stored and acknowledged but changes nothing. */
export interface IgnoredEvent extends Base<'ignored'> {
  readonly stripeType: string;
  readonly why: 'UNHANDLED_TYPE' | 'NOT_A_SUBSCRIPTION';
}

/** Every event billing reads. */
export type BillingEvent =
  | CheckoutCompleted
  | SubscriptionChanged
  | InvoicePaid
  | InvoicePaymentFailed
  | InvoicePaymentPaid
  | ChargeRefunded
  | DisputeCreated
  | IgnoredEvent;

/** The Stripe event types that change a license (README: Stripe events handled). */
export const HANDLED_STRIPE_EVENTS = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.trial_will_end',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice_payment.paid',
  'charge.refunded',
  'charge.dispute.created',
] as const;
