/**
 * One subscription's life as Stripe would tell it, event by event, with times relative to a
 * start: the tests (and the property test) build their sequences from these steps.
 */
import {
  chargeRefunded,
  checkoutCompleted,
  disputeCreated,
  invoiceEvent,
  newStripeIds,
  PRICES,
  subscriptionEvent,
  type StripeEventJson,
  type SubscriptionFields,
} from './stripe-events.js';

const DAY = 86_400_000;

/** A subscription's story builder. */
export function subscriptionStory(start: Date = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000)) {
  const ids = newStripeIds();
  let clock = start.getTime();
  let invoices = 0;
  /** Stripe keeps `trial_end` on the subscription after the trial converted. */
  let trialEnd: Date | null = null;
  /** Each event is created one second after the previous one. */
  const tick = (): Date => new Date((clock += 1_000));
  const at = (days: number): Date => new Date(start.getTime() + days * DAY);
  const sub = (fields: Partial<SubscriptionFields> & Pick<SubscriptionFields, 'status' | 'price'>, from: number, to: number): SubscriptionFields => ({
    id: ids.subscription,
    customer: ids.customer,
    periodStart: at(from),
    periodEnd: at(to),
    trialEnd,
    ...fields,
  });
  const invoice = (kind: 'paid' | 'payment_failed', price: string, from: number, to: number, charge = `ch_${ids.subscription.slice(4)}_${invoices}`) => {
    invoices++;
    return {
      charge,
      event: invoiceEvent(
        kind,
        { id: `in_${ids.subscription.slice(4)}_${invoices}`, subscription: ids.subscription, customer: ids.customer, email: ids.email, charge, price, periodStart: at(from), periodEnd: at(to) },
        tick(),
      ),
    };
  };
  return {
    ids,
    at,
    /** Checkout with a 14-day trial on `price`: subscription.created, checkout, the $0 trial invoice. */
    trialCheckout(price: string = PRICES.basic): StripeEventJson[] {
      trialEnd = at(14);
      return [
        subscriptionEvent('created', sub({ status: 'trialing', price, defaultPaymentMethod: 'pm_card_visa' }, 0, 14), tick()),
        checkoutCompleted({ subscription: ids.subscription, customer: ids.customer, email: ids.email }, tick()),
        invoice('paid', price, 0, 14).event,
      ];
    },
    /** Checkout without a trial: subscription.created, checkout, the first paid invoice (returns its charge). */
    paidCheckout(price: string = PRICES.basic): { events: StripeEventJson[]; charge: string } {
      const first = invoice('paid', price, 0, 30);
      return {
        charge: first.charge,
        events: [subscriptionEvent('created', sub({ status: 'active', price }, 0, 30), tick()), checkoutCompleted({ subscription: ids.subscription, customer: ids.customer, email: ids.email }, tick()), first.event],
      };
    },
    /** The trial converts: the first paid period, then the subscription turns active. */
    conversion(price: string, to: number): StripeEventJson[] {
      return [invoice('paid', price, 14, to).event, subscriptionEvent('updated', sub({ status: 'active', price }, 14, to), tick(), { status: 'trialing' })];
    },
    /** A renewal to `to` days. */
    renewal(price: string, from: number, to: number): StripeEventJson[] {
      return [subscriptionEvent('updated', sub({ status: 'active', price }, from, to), tick()), invoice('paid', price, from, to).event];
    },
    /** A failed renewal: the invoice fails and the subscription turns past_due. */
    failedPayment(price: string, from: number, to: number): StripeEventJson[] {
      return [invoice('payment_failed', price, from, to).event, subscriptionEvent('updated', sub({ status: 'past_due', price }, from, to), tick(), { status: 'active' })];
    },
    /** The retried payment succeeds. */
    recovery(price: string, from: number, to: number): StripeEventJson[] {
      return [invoice('paid', price, from, to).event, subscriptionEvent('updated', sub({ status: 'active', price }, from, to), tick(), { status: 'past_due' })];
    },
    /** A plan change (the price of the item changes now; Keyward decides when it applies). */
    planChange(price: string, from: number, to: number): StripeEventJson[] {
      return [subscriptionEvent('updated', sub({ status: 'active', price }, from, to), tick(), { items: {} })];
    },
    cancelAtPeriodEnd(price: string, from: number, to: number, cancel = true): StripeEventJson[] {
      return [subscriptionEvent('updated', sub({ status: 'active', price, cancelAtPeriodEnd: cancel }, from, to), tick(), { cancel_at_period_end: !cancel })];
    },
    deleted(price: string, from: number, to: number): StripeEventJson[] {
      return [subscriptionEvent('deleted', sub({ status: 'canceled', price }, from, to), tick())];
    },
    refund(charge: string): StripeEventJson[] {
      return [chargeRefunded({ charge, invoice: null, customer: ids.customer }, tick())];
    },
    partialRefund(charge: string): StripeEventJson[] {
      return [chargeRefunded({ charge, invoice: null, customer: ids.customer, amountRefunded: 500 }, tick())];
    },
    dispute(charge: string): StripeEventJson[] {
      return [disputeCreated({ charge }, tick())];
    },
  };
}
