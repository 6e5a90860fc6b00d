/**
 * One subscription's life as Stripe would tell it, event by event, built from Stripe's fixture
 * objects (stripe-events.ts) in either API generation. Two builders: `subscriptionStory`, a step
 * by step builder with events one second apart (the example tests), and `subscriptionLife`, a
 * whole life at realistic times from a {@link LifePlan} (the property tests generate plans),
 * with the events Stripe creates in one second sharing it.
 */
import fc from 'fast-check';

import type { PlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import {
  chargeRefunded,
  checkoutCompleted,
  disputeCreated,
  invoiceEvent,
  invoicePaymentPaid,
  newStripeIds,
  PRICES,
  subscriptionEvent,
  type ApiGeneration,
  type ItemFields,
  type StripeEventJson,
  type SubscriptionFields,
} from './stripe-events.js';

const DAY = 86_400_000;

/** Options of {@link subscriptionStory}. */
export interface StoryOptions {
  readonly generation?: ApiGeneration;
  /** The customer's e-mail at Checkout and on invoices; `null` for none. Default: a fresh address. */
  readonly email?: string | null;
}

/** A subscription's story builder. */
export function subscriptionStory(start: Date = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000), options: StoryOptions = {}) {
  const generation = options.generation ?? 'legacy';
  const fresh = newStripeIds();
  const ids = { ...fresh, email: options.email === undefined ? fresh.email : options.email };
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
    generation,
    ...fields,
  });
  const invoice = (kind: 'paid' | 'payment_failed', price: string, from: number, to: number) => {
    invoices++;
    const suffix = `${ids.subscription.slice(4)}_${invoices}`;
    const charge = `ch_${suffix}`;
    const paymentIntent = `pi_${suffix}`;
    const id = `in_${suffix}`;
    const created = tick();
    const events = [
      invoiceEvent(kind, { id, subscription: ids.subscription, customer: ids.customer, email: ids.email, charge, paymentIntent, price, periodStart: at(from), periodEnd: at(to), generation }, created),
    ];
    if (kind === 'paid' && generation === 'current') events.push(invoicePaymentPaid({ invoice: id, paymentIntent }, created));
    return { charge: { charge, paymentIntent }, events };
  };
  return {
    ids,
    at,
    generation,
    /** Checkout with a 14-day trial on `price`: subscription.created, checkout, the $0 trial invoice. */
    trialCheckout(price: string = PRICES.basic): StripeEventJson[] {
      trialEnd = at(14);
      return [
        subscriptionEvent('created', sub({ status: 'trialing', price, defaultPaymentMethod: 'pm_card_visa' }, 0, 14), tick()),
        checkoutCompleted({ subscription: ids.subscription, customer: ids.customer, email: ids.email, generation }, tick()),
        ...invoice('paid', price, 0, 14).events,
      ];
    },
    /** Checkout without a trial: subscription.created, checkout, the first paid invoice (returns its charge). */
    paidCheckout(price: string = PRICES.basic, items?: readonly ItemFields[]): { events: StripeEventJson[]; charge: string; payment: { charge: string; paymentIntent: string } } {
      const first = invoice('paid', price, 0, 30);
      return {
        charge: first.charge.charge,
        payment: first.charge,
        events: [
          subscriptionEvent('created', sub({ status: 'active', price, ...(items ? { items } : {}) }, 0, 30), tick()),
          checkoutCompleted({ subscription: ids.subscription, customer: ids.customer, email: ids.email, generation }, tick()),
          ...first.events,
        ],
      };
    },
    /** The trial converts: the first paid period, then the subscription turns active. */
    conversion(price: string, to: number): StripeEventJson[] {
      return [...invoice('paid', price, 14, to).events, subscriptionEvent('updated', sub({ status: 'active', price }, 14, to), tick(), { status: 'trialing' })];
    },
    /** A renewal to `to` days. */
    renewal(price: string, from: number, to: number): StripeEventJson[] {
      return [subscriptionEvent('updated', sub({ status: 'active', price }, from, to), tick(), { current_period_end: Math.floor(at(from).getTime() / 1000) }), ...invoice('paid', price, from, to).events];
    },
    /** A failed renewal: the invoice fails and the subscription turns past_due. */
    failedPayment(price: string, from: number, to: number): StripeEventJson[] {
      return [...invoice('payment_failed', price, from, to).events, subscriptionEvent('updated', sub({ status: 'past_due', price }, from, to), tick(), { status: 'active' })];
    },
    /** The retried payment succeeds. */
    recovery(price: string, from: number, to: number): StripeEventJson[] {
      return [...invoice('paid', price, from, to).events, subscriptionEvent('updated', sub({ status: 'active', price }, from, to), tick(), { status: 'past_due' })];
    },
    /** A plan change (the price of the item changes now; Keyward decides when it applies). */
    planChange(price: string, from: number, to: number): StripeEventJson[] {
      return [subscriptionEvent('updated', sub({ status: 'active', price }, from, to), tick(), { items: {} })];
    },
    /** The quantity of the plan's item changes from `before` to `quantity` (seats, on a per-seat price). */
    quantityChange(price: string, before: number, quantity: number, from: number, to: number): StripeEventJson[] {
      const previous = { items: { object: 'list', data: [{ price: { id: price }, quantity: before }] } };
      return [subscriptionEvent('updated', sub({ status: 'active', price, items: [{ price, quantity }] }, from, to), tick(), previous)];
    },
    cancelAtPeriodEnd(price: string, from: number, to: number, cancel = true): StripeEventJson[] {
      return [subscriptionEvent('updated', sub({ status: 'active', price, cancelAtPeriodEnd: cancel }, from, to), tick(), { cancel_at_period_end: !cancel })];
    },
    deleted(price: string, from: number, to: number): StripeEventJson[] {
      return [subscriptionEvent('deleted', sub({ status: 'canceled', price }, from, to), tick())];
    },
    /** A full refund of a payment (the charge's invoice named only by the legacy generation). */
    refund(charge: string | { charge: string; paymentIntent: string }): StripeEventJson[] {
      const payment = typeof charge === 'string' ? { charge, paymentIntent: `pi_${charge.slice(3)}` } : charge;
      return [chargeRefunded({ charge: payment.charge, invoice: null, paymentIntent: payment.paymentIntent, customer: ids.customer }, tick())];
    },
    partialRefund(charge: string): StripeEventJson[] {
      return [chargeRefunded({ charge, invoice: null, paymentIntent: `pi_${charge.slice(3)}`, customer: ids.customer, amountRefunded: 500 }, tick())];
    },
    dispute(charge: string | { charge: string; paymentIntent: string }): StripeEventJson[] {
      const payment = typeof charge === 'string' ? { charge, paymentIntent: `pi_${charge.slice(3)}` } : charge;
      return [disputeCreated(payment, tick())];
    },
  };
}

/** The plans' prices in rank order (basic < pro, also sold per seat, < web). */
export const RANKED_PRICES = [PRICES.basic, PRICES.pro, PRICES.proPerSeat, PRICES.web] as const;

/** A plan price of the test catalogue. */
export type LifePrice = (typeof RANKED_PRICES)[number];

/**
 * Something a customer does during a period, on a day of it: change the plan's price, cancel or
 * resume, or change the quantity of the plan's item (the seats, on a per-seat price). A quantity
 * change with `sameSecond` is created in the same second as the subscription's previous event
 * (Stripe makes several changes in one second, e.g. a quantity change with a renewal).
 */
export type LifeAction =
  | { readonly day: number; readonly kind: 'change'; readonly price: LifePrice }
  | { readonly day: number; readonly kind: 'cancel'; readonly cancel: boolean }
  | { readonly day: number; readonly kind: 'seats'; readonly quantity: number; readonly sameSecond: boolean };

/** A subscription's whole life, as the property tests generate it. */
export interface LifePlan {
  readonly generation: ApiGeneration;
  readonly trial: boolean;
  readonly price: LifePrice;
  /** The quantity of the plan's item at checkout (the seats, on a per-seat price). */
  readonly quantity: number;
  /** An add-on item (extra seats) comes before the plan's item. */
  readonly addOnFirst: boolean;
  /** Whether Checkout knew the customer's e-mail. */
  readonly email: boolean;
  /** Plan changes in the first period. */
  readonly firstActions: readonly LifeAction[];
  /** Each period after the first: how its renewal went, and the plan changes in it. */
  readonly renewals: ReadonlyArray<{ readonly payment: 'paid' | 'failed_then_recovered'; readonly actions: readonly LifeAction[] }>;
  /** How the last period ends: a failed renewal left unpaid, a refund, a dispute, a deletion, or nothing. */
  readonly ending: 'none' | 'unpaid' | 'refund' | 'dispute' | 'deleted';
}

const quantity = fc.integer({ min: 1, max: 12 });
const action = fc.oneof(
  fc.record({ day: fc.integer({ min: 1, max: 9 }), kind: fc.constant('change' as const), price: fc.constantFrom(...RANKED_PRICES) }),
  fc.record({ day: fc.integer({ min: 1, max: 9 }), kind: fc.constant('cancel' as const), cancel: fc.boolean() }),
  fc.record({ day: fc.integer({ min: 1, max: 9 }), kind: fc.constant('seats' as const), quantity, sameSecond: fc.boolean() }),
);
const actions = fc.array(action, { maxLength: 3 });

/**
 * Generated lives: checkout (with or without a trial), renewals, failed payments and recoveries,
 * plan changes, seat (quantity) changes, some in the second of the event before, cancellations
 * and resumptions, refunds, disputes, deletions.
 */
export const lifePlans: fc.Arbitrary<LifePlan> = fc.record({
  generation: fc.constantFrom<ApiGeneration>('legacy', 'current'),
  trial: fc.boolean(),
  price: fc.constantFrom(...RANKED_PRICES),
  quantity,
  addOnFirst: fc.boolean(),
  email: fc.boolean(),
  firstActions: actions,
  renewals: fc.array(fc.record({ payment: fc.constantFrom('paid' as const, 'failed_then_recovered' as const), actions }), { maxLength: 3 }),
  ending: fc.constantFrom('none' as const, 'unpaid' as const, 'refund' as const, 'dispute' as const, 'deleted' as const),
});

/** The events of a life, and what a correct provisioning ends with. */
export interface Life {
  readonly subscriptionId: string;
  readonly email: string | null;
  readonly events: StripeEventJson[];
  /** The time the life is played at: day 12 of its last period. */
  readonly now: Date;
  /** The period the last paid (or trial) period ends at. */
  readonly periodEndsAt: Date;
  /** The plan prices (and their items' quantities) the subscription had in its last period, in order. */
  readonly lastPeriodTerms: ReadonlyArray<{ readonly price: string; readonly quantity: number }>;
  /** `cancel_at_period_end` at the end of the life. */
  readonly cancelAtPeriodEnd: boolean;
}

/**
 * The events of a life at realistic times, ending on day 12 of its last period (periods of 30
 * days, a trial of 14; actions on days 1-9, the ending on day 10 or 11), so that the last period
 * is current at `now`. Events Stripe creates together share one second: at Checkout the
 * subscription's creation (incomplete), its payment and its activation; at a renewal the
 * subscription's new period and its invoice.
 */
export function subscriptionLife(plan: LifePlan, now: Date): Life {
  const generation = plan.generation;
  const fresh = newStripeIds();
  const email = plan.email ? fresh.email : null;
  const ids = { ...fresh, email };
  const lengths = [plan.trial ? 14 : 30, ...plan.renewals.map(() => 30)];
  const lastStart = lengths.slice(0, -1).reduce((sum, length) => sum + length, 0);
  const start = new Date(Math.floor(now.getTime() / 1000) * 1000 - (lastStart + 12) * DAY);
  const at = (day: number, seconds = 0): Date => new Date(start.getTime() + day * DAY + seconds * 1000);
  const events: StripeEventJson[] = [];
  const trialEnd = plan.trial ? at(14) : null;
  let invoices = 0;
  let lastPayment: { charge: string; paymentIntent: string } | null = null;
  // The subscription as Stripe holds it.
  let price: string = plan.price;
  let seats = plan.quantity;
  let status: SubscriptionFields['status'] = plan.trial ? 'trialing' : 'incomplete';
  let cancel = false;
  let period = { from: 0, to: lengths[0] ?? 30 };
  let lastPeriodTerms = [{ price, quantity: seats }];
  // The second of the subscription's latest snapshot, and the quantities its snapshots showed:
  // a quantity change may share that second unless it returns to one of them (Stripe's
  // previous_attributes would then point both ways, which only an API read settles).
  let lastSecond: { at: Date; quantities: Set<number> } | null = null;
  const items = (): ItemFields[] => (plan.addOnFirst ? [{ price: PRICES.seats, quantity: 2 }, { price, quantity: seats }] : [{ price, quantity: seats }]);
  const fields = (): SubscriptionFields => ({
    id: ids.subscription,
    customer: ids.customer,
    price,
    items: items(),
    status,
    periodStart: at(period.from),
    periodEnd: at(period.to),
    cancelAtPeriodEnd: cancel,
    trialEnd,
    defaultPaymentMethod: 'pm_card_visa',
    generation,
  });
  const invoice = (kind: 'paid' | 'payment_failed', created: Date, paid: boolean) => {
    invoices++;
    const suffix = `${ids.subscription.slice(4)}_${invoices}`;
    const payment = { charge: `ch_${suffix}`, paymentIntent: `pi_${suffix}` };
    const id = `in_${suffix}`;
    events.push(invoiceEvent(kind, { id, subscription: ids.subscription, customer: ids.customer, email, ...payment, price, periodStart: at(period.from), periodEnd: at(period.to), generation }, created));
    if (kind === 'paid' && paid) {
      lastPayment = payment;
      if (generation === 'current') events.push(invoicePaymentPaid({ invoice: id, paymentIntent: payment.paymentIntent }, created));
    }
  };
  const snapshotAt = (created: Date) => {
    if (lastSecond === null || lastSecond.at.getTime() !== created.getTime()) lastSecond = { at: created, quantities: new Set() };
    lastSecond.quantities.add(seats);
  };
  const update = (created: Date, previous: Record<string, unknown>) => {
    snapshotAt(created);
    events.push(subscriptionEvent('updated', fields(), created, previous));
  };
  const previousItems = () => ({ items: { object: 'list', data: items().map((item) => ({ price: { id: item.price }, quantity: item.quantity ?? 1 })) } });
  const act = (base: number, list: readonly LifeAction[], allowCancel: boolean) => {
    [...list].sort((a, b) => a.day - b.day).forEach((a, i) => {
      const created = at(base + a.day, i);
      if (a.kind === 'change' && a.price !== price) {
        const previous = previousItems();
        price = a.price;
        lastPeriodTerms.push({ price, quantity: seats });
        update(created, previous);
      } else if (a.kind === 'seats' && a.quantity !== seats) {
        const previous = previousItems();
        const shared = lastSecond as { at: Date; quantities: Set<number> } | null;
        const same = a.sameSecond && shared !== null && shared.at.getTime() >= at(base).getTime() && !shared.quantities.has(a.quantity);
        seats = a.quantity;
        lastPeriodTerms.push({ price, quantity: seats });
        update(same && shared ? shared.at : created, previous);
      } else if (a.kind === 'cancel' && allowCancel && a.cancel !== cancel) {
        cancel = a.cancel;
        update(created, { cancel_at_period_end: !cancel });
      }
    });
  };

  // Checkout: all in one second.
  const checkoutAt = at(0);
  snapshotAt(checkoutAt);
  if (plan.trial) {
    events.push(subscriptionEvent('created', fields(), checkoutAt));
    invoice('paid', checkoutAt, false);
  } else {
    events.push(subscriptionEvent('created', fields(), checkoutAt));
    invoice('paid', checkoutAt, true);
    status = 'active';
    update(checkoutAt, { status: 'incomplete' });
  }
  events.push(checkoutCompleted({ subscription: ids.subscription, customer: ids.customer, email, generation }, checkoutAt));
  const last = plan.renewals.length;
  act(0, plan.firstActions, last === 0);

  let base = 0;
  plan.renewals.forEach((renewal, index) => {
    base += lengths[index] ?? 30;
    const renewedAt = at(base);
    const before = { status, current_period_end: Math.floor(at(period.to).getTime() / 1000) };
    period = { from: base, to: base + (lengths[index + 1] ?? 30) };
    lastPeriodTerms = [{ price, quantity: seats }];
    const isLast = index === last - 1;
    if (isLast && plan.ending === 'unpaid') {
      status = 'past_due';
      update(renewedAt, before);
      invoice('payment_failed', renewedAt, false);
    } else if (renewal.payment === 'failed_then_recovered') {
      status = 'past_due';
      update(renewedAt, before);
      invoice('payment_failed', renewedAt, false);
      const recoveredAt = at(base + 0.5);
      invoice('paid', recoveredAt, true);
      status = 'active';
      update(recoveredAt, { status: 'past_due' });
    } else {
      status = 'active';
      update(renewedAt, before);
      invoice('paid', renewedAt, true);
    }
    act(base, renewal.actions, isLast);
  });

  const endAt = at(base + 10);
  const payment = lastPayment as { charge: string; paymentIntent: string } | null;
  if (plan.ending === 'refund' && payment !== null) {
    events.push(chargeRefunded({ charge: payment.charge, invoice: generation === 'legacy' ? `in_${payment.charge.slice(3)}` : null, paymentIntent: payment.paymentIntent, customer: ids.customer }, endAt));
  } else if (plan.ending === 'dispute' && payment !== null) {
    events.push(disputeCreated(payment, endAt));
  } else if (plan.ending === 'deleted') {
    status = 'canceled';
    events.push(subscriptionEvent('deleted', fields(), endAt));
  }
  return { subscriptionId: ids.subscription, email, events, now: at(base + 12), periodEndsAt: at(period.to), lastPeriodTerms, cancelAtPeriodEnd: cancel };
}

/**
 * What a correct provisioning of a life ends with, as {@link licenseProjection} shows it (times
 * relative to the life's `now`): the plan in force is the highest (by rank, then seats) the last period had, a lower
 * last plan is pending; a refund revokes, a dispute or an unpaid renewal suspends, a deletion
 * cancels at the period end; the period ends at the last period's end plus the renewal grace.
 */
export function expectedLicense(plan: LifePlan, life: Life, plans: PlanCatalogue, renewalGraceMs: number) {
  // A plan price and quantity as terms: the plan, and its seats (the quantity on a per-seat price).
  const termsOf = ({ price, quantity }: { price: string; quantity: number }) => {
    const found = plans.byStripePrice(price);
    if (!found) throw new Error(`no plan has ${price}`);
    const seats = found.limits.maxActivations === null ? null : plans.isPerSeatPrice(price) ? Math.max(1, quantity) : found.limits.maxActivations;
    return { planId: found.id, rank: found.rank, seats };
  };
  type Terms = ReturnType<typeof termsOf>;
  const above = (a: Terms, b: Terms) => a.rank > b.rank || (a.rank === b.rank && (a.seats ?? Infinity) > (b.seats ?? Infinity));
  const terms = life.lastPeriodTerms.map(termsOf);
  const last = terms.at(-1);
  if (last === undefined) throw new Error('a life has terms');
  // More (a higher plan, or more seats) is in force at once; less waits for the period end.
  const current = terms.reduce((best, t) => (above(t, best) ? t : best), last);
  const pending = last.planId === current.planId && last.seats === current.seats ? null : last;
  const paid = !(plan.trial && plan.renewals.length === 0);
  if (plan.ending === 'refund' && paid) return { status: 'revoked', keyType: plan.trial ? 'trial' : 'production', revocation: 'refund' };
  const suspension = plan.ending === 'dispute' && paid ? 'dispute' : plan.ending === 'unpaid' && plan.renewals.length > 0 ? 'payment_failed' : null;
  return {
    status: suspension === null ? 'active' : 'suspended',
    keyType: plan.trial ? 'trial' : 'production',
    planId: current.planId,
    seats: current.seats,
    pendingPlanId: pending?.planId ?? null,
    pendingSeats: pending?.seats ?? null,
    periodEndsAt: life.periodEndsAt.getTime() + renewalGraceMs - life.now.getTime(),
    trialEndsAt: plan.trial && plan.renewals.length === 0 ? life.periodEndsAt.getTime() - life.now.getTime() : null,
    cancelAtPeriodEnd: plan.ending === 'deleted' || life.cancelAtPeriodEnd,
    suspension,
  };
}
