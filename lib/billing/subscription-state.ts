/**
 * What billing knows about one Stripe subscription, folded from its events so that the order
 * they arrive in does not matter: the latest snapshot by event time wins, payments and failures
 * are kept as maxima and sets, refunds and disputes are sticky. The license is then decided from
 * this state (decide-billing-actions.ts), never from one event's delta.
 */
import type { SubscriptionSnapshot } from './billing-event.js';

/** The folded state of one subscription. */
export interface SubscriptionState {
  readonly subscriptionId: string;
  readonly stripeCustomerId: string | null;
  /** The customer's e-mail, from Checkout or an invoice. */
  readonly email: string | null;
  /** The newest snapshot (by event `created`, or the time of an API read). */
  readonly snapshot: SubscriptionSnapshot | null;
  readonly snapshotAt: Date | null;
  /** Latest period end any paid invoice paid for. */
  readonly paidThrough: Date | null;
  /** Creation time of the newest paid invoice event. */
  readonly lastPaidAt: Date | null;
  /** Creation times of payment failure events (a failure counts while it is newer than lastPaidAt). */
  readonly failures: readonly Date[];
  /** A full refund: the license is revoked. */
  readonly refund: { readonly at: Date; readonly ref: string } | null;
  /** A dispute: the license is suspended until someone looks. */
  readonly dispute: { readonly at: Date; readonly ref: string; readonly disputeId: string; readonly reason: string; readonly chargeId: string } | null;
  /** When `customer.subscription.deleted` was created. */
  readonly deletedAt: Date | null;
}

/** An empty state for a subscription nothing is known about yet. */
export function emptySubscriptionState(subscriptionId: string): SubscriptionState {
  return {
    subscriptionId,
    stripeCustomerId: null,
    email: null,
    snapshot: null,
    snapshotAt: null,
    paidThrough: null,
    lastPaidAt: null,
    failures: [],
    refund: null,
    dispute: null,
    deletedAt: null,
  };
}

/**
 * Since when the subscription's payment has been failing, or `null` when it is not: the oldest
 * failure newer than the last payment, or a past_due/unpaid snapshot newer than it.
 */
export function failingSince(state: SubscriptionState): Date | null {
  const paid = state.lastPaidAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  const times = state.failures.map((at) => at.getTime()).filter((at) => at > paid);
  const { snapshot, snapshotAt } = state;
  if (snapshot && snapshotAt && (snapshot.status === 'past_due' || snapshot.status === 'unpaid') && snapshotAt.getTime() > paid) {
    times.push(snapshotAt.getTime());
  }
  return times.length === 0 ? null : new Date(Math.min(...times));
}
