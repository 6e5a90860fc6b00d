/**
 * What billing knows about one Stripe subscription, folded from its events so that the order
 * they arrive in does not matter: every snapshot is kept (a set, one per event id) and the
 * current one and the plan history are derived from the set (subscription-history.ts);
 * payments and failures are kept as maxima and sets, refunds and disputes are sticky. The
 * license is then decided from this state (decide-billing-actions.ts), never from one event's
 * delta.
 */
import { latestSnapshot, type SnapshotFact } from './subscription-history.js';

/** The folded state of one subscription. */
export interface SubscriptionState {
  readonly subscriptionId: string;
  readonly stripeCustomerId: string | null;
  /** The customer's e-mail, from Checkout or an invoice. */
  readonly email: string | null;
  /** Every snapshot seen (one per event id; API reads as one fact, the newest kept). */
  readonly snapshots: readonly SnapshotFact[];
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
    snapshots: [],
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
  const latest = latestSnapshot(state.snapshots)?.fact;
  if (latest && (latest.snapshot.status === 'past_due' || latest.snapshot.status === 'unpaid') && latest.at.getTime() > paid) {
    times.push(latest.at.getTime());
  }
  return times.length === 0 ? null : new Date(Math.min(...times));
}
