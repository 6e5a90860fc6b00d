/**
 * The mapping from what Stripe says about a subscription to what happens to its license: one
 * pure function from the folded {@link SubscriptionState}, the license as stored and `now` to the
 * next change. The caller applies the change and asks again until the state is settled, so
 * duplicated and out-of-order events, and workers racing on one subscription, all converge on
 * the license this state implies.
 */
import type { LicenseCommand } from '../lifecycle/commands.js';
import { periodEnded, type License, type SuspensionReason } from '../lifecycle/license.js';
import type { EmailKind } from '../mail/email-request.js';
import type { PlanCatalogue } from '../plans/plan-catalogue.js';
import type { Plan } from '../plans/plan.js';
import { compareTerms, latestPeriodEnd, latestSnapshot, planOfSnapshot, sameTerms, targetPlan, type PlanTarget } from './subscription-history.js';
import { failingSince, type SubscriptionState } from './subscription-state.js';

/** What {@link decideBillingActions} needs. */
export interface BillingDecisionInput {
  readonly state: SubscriptionState;
  /** The license the subscription provisions, or `null` when none was issued yet. */
  readonly license: License | null;
  readonly plans: PlanCatalogue;
  readonly now: Date;
  /** How long a failing payment is tolerated before the license is suspended, in ms. */
  readonly paymentGraceMs: number;
  /**
   * Validity added after each paid (or trial) period end, in ms, so that a renewal Stripe
   * delivers late (delays, webhook retries) never leaves a paying customer's key expired
   * in between. Default 0.
   */
  readonly renewalGraceMs?: number;
  /** The worker can read the subscription from the Stripe API (to settle tied snapshots). Default false. */
  readonly canReadApi?: boolean;
  /** The reference recorded with each command (the Stripe event being applied). */
  readonly ref: string;
}

/** The next change to make. */
export type BillingChange =
  | {
      readonly type: 'issue';
      readonly planId: string;
      /** Machine seats of the license: a per-seat price's quantity, else the plan's own; `null` when the plan has none. */
      readonly seats: number | null;
      /**
       * `trial` when the subscription started with a trial (Stripe keeps `trial_end` after
       * conversion), so the key type does not depend on which event issued the license.
       */
      readonly keyType: 'trial' | 'production';
      readonly trialEndsAt: Date | null;
      readonly periodEndsAt: Date;
    }
  | { readonly type: 'command'; readonly command: LicenseCommand };

/** Idempotent follow-ups of a settled state. */
export type BillingEffect =
  | { readonly type: 'email'; readonly kind: EmailKind; readonly dedupeKey: string; readonly data: Readonly<Record<string, string | number | boolean | null>> }
  /** Decide again at this time (the end of a payment grace period). */
  | { readonly type: 'recheck'; readonly at: Date }
  /** Report the dispute to the abuse roll-up. */
  | { readonly type: 'dispute_signal' }
  /**
   * Report the trial to the trial-cycling rule. Repeated while the license is a trial (the
   * hook is idempotent), so a registration made before Checkout told the e-mail is completed.
   */
  | { readonly type: 'trial_started' };

/** Outcome of {@link decideBillingActions}. */
export type BillingDecision =
  | { readonly outcome: 'change'; readonly change: BillingChange }
  | { readonly outcome: 'settled'; readonly effects: readonly BillingEffect[] }
  /** Nothing can be provisioned yet: the subscription itself has not been seen. */
  | { readonly outcome: 'waiting'; readonly code: 'SUBSCRIPTION_NOT_SEEN' }
  /**
   * The newest snapshots share one `created` second, say different things, and nothing in them
   * orders them: read the subscription from the Stripe API (when there is a key) and decide
   * again. Without a key the decision proceeds on a fixed (content-based) order instead.
   */
  | { readonly outcome: 'needs_api_read'; readonly code: 'SNAPSHOTS_TIED' }
  /** Nothing to provision: the subscription never reached a usable state or is already over. */
  | { readonly outcome: 'nothing_to_provision'; readonly code: 'SUBSCRIPTION_NOT_STARTED' | 'PERIOD_OVER' }
  | { readonly outcome: 'refused'; readonly code: 'UNKNOWN_PRICE' | 'NO_PRICE'; readonly message: string; readonly details: Readonly<Record<string, unknown>> };

const PROVISIONING_STATUSES = new Set(['trialing', 'active', 'past_due', 'unpaid', 'canceled', 'paused']);
const PAYING_STATUSES = new Set(['active', 'past_due', 'unpaid']);
const HOLDS_BILLING_OWNS: ReadonlySet<SuspensionReason> = new Set(['payment_failed', 'dispute']);

const maxDate = (...dates: ReadonlyArray<Date | null>): Date | null =>
  dates.reduce<Date | null>((best, date) => (date !== null && (best === null || date.getTime() > best.getTime()) ? date : best), null);

/** The next change that brings the license in line with the subscription, or the effects of a settled one. */
export function decideBillingActions(input: BillingDecisionInput): BillingDecision {
  const { state, license, plans, now, paymentGraceMs, ref } = input;
  const graceMs = input.renewalGraceMs ?? 0;
  const latest = latestSnapshot(state.snapshots);
  const command = (c: LicenseCommand): BillingDecision => ({ outcome: 'change', change: { type: 'command', command: c } });
  const cause = { actor: 'stripe', ref };

  if (latest === null) return license === null ? { outcome: 'waiting', code: 'SUBSCRIPTION_NOT_SEEN' } : settledEffects(input);
  if (latest.tied && input.canReadApi === true) return { outcome: 'needs_api_read', code: 'SNAPSHOTS_TIED' };
  const snapshot = latest.fact.snapshot;
  const found = planOfSnapshot(snapshot, plans);
  const target = targetPlan(state.snapshots, plans, now, graceMs);
  const paidEnd = maxDate(latestPeriodEnd(state.snapshots), state.paidThrough);
  const desiredEnd = paidEnd === null ? null : new Date(paidEnd.getTime() + graceMs);
  const ending = state.deletedAt !== null || snapshot.status === 'canceled' || snapshot.status === 'incomplete_expired';
  // Still a trial: its end is ahead, no period beyond it is known (paid or shown), and the
  // subscription is not paying (a trial cancelled before it ends stays a trial until then). So
  // a renewal beyond the trial's end (plus grace) always ends the trial, in any order.
  const trialEnd = snapshot.trialEnd;
  const stillTrial =
    trialEnd !== null && trialEnd > now && (paidEnd?.getTime() ?? 0) <= trialEnd.getTime() && !PAYING_STATUSES.has(snapshot.status);

  if (license === null) {
    if (!PROVISIONING_STATUSES.has(snapshot.status)) return { outcome: 'nothing_to_provision', code: 'SUBSCRIPTION_NOT_STARTED' };
    if (!found.ok || target === null) {
      if (found.ok || found.code === 'NO_PRICE') {
        return { outcome: 'refused', code: 'NO_PRICE', message: `Subscription ${snapshot.subscriptionId} has no price.`, details: {} };
      }
      return {
        outcome: 'refused',
        code: 'UNKNOWN_PRICE',
        message: `No plan in the catalogue has any of the Stripe prices ${found.priceIds.join(', ')} of subscription ${snapshot.subscriptionId}.`,
        details: { priceIds: found.priceIds, priceId: found.priceIds[0] ?? null, subscriptionId: snapshot.subscriptionId },
      };
    }
    const trialEndsAt = stillTrial ? snapshot.trialEnd : null;
    const periodEndsAt = trialEndsAt ?? desiredEnd;
    if (periodEndsAt === null || periodEndsAt.getTime() <= now.getTime()) return { outcome: 'nothing_to_provision', code: 'PERIOD_OVER' };
    const keyType = snapshot.trialEnd === null ? 'production' : 'trial';
    const seats = target.current.limits.maxActivations;
    return { outcome: 'change', change: { type: 'issue', planId: target.current.id, seats, keyType, trialEndsAt, periodEndsAt } };
  }

  if (license.status === 'revoked') return settledEffects(input);
  if (state.refund !== null) return command({ type: 'revoke', reason: 'refund', note: `Stripe refund ${state.refund.ref}`, cause });

  // Paid (or trial) period plus the renewal grace: only ever extended.
  const current = license.periodEndsAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  if (desiredEnd !== null && desiredEnd.getTime() > current && desiredEnd.getTime() > now.getTime()) {
    const endsTrial = license.trial !== null && !stillTrial;
    return command({ type: 'renew', periodEndsAt: desiredEnd, ...(endsTrial ? { endsTrial: true } : {}), cause });
  }
  const over = periodEnded(license, now);
  if (license.status !== 'expired' && !over) {
    const planChange = target === null ? null : planCommand(license, target);
    if (planChange !== null) return command({ type: 'change_plan', ...planChange, cause });

    const wantCancel = ending || snapshot.cancelAtPeriodEnd;
    if (wantCancel && !license.cancelAtPeriodEnd) return command({ type: 'cancel', cause });
    if (!wantCancel && license.cancelAtPeriodEnd) return command({ type: 'resume', cause });

    const since = failingSince(state);
    const hold: SuspensionReason | null =
      state.dispute !== null ? 'dispute' : since !== null && now.getTime() >= since.getTime() + paymentGraceMs ? 'payment_failed' : null;
    const held = license.status === 'suspended' ? license.suspension?.reason ?? null : null;
    if (held !== null && HOLDS_BILLING_OWNS.has(held) && held !== hold) return command({ type: 'reinstate', onlyIf: held, cause });
    if (license.status === 'active' && hold !== null) {
      const note = hold === 'dispute' && state.dispute ? `Stripe dispute ${state.dispute.disputeId}: ${state.dispute.reason}` : 'Stripe payment failed';
      return command({ type: 'suspend', reason: hold, note, cause });
    }
  }
  if (ending && over && license.status !== 'expired') return command({ type: 'expire', cause });
  return settledEffects(input);
}

/**
 * The plan change that brings the license to the target, or `null` when it is in line: an
 * upgrade (a higher plan, or more seats of the same one) now; a downgrade (a lower plan, or
 * fewer seats) from an earlier period effective since the target says (at once when that is
 * past); a downgrade made in this period at its end; the same terms again to drop a pending
 * downgrade the history no longer has. The times come from the subscription's own periods, so
 * the license reaches the same plan, seats and pending change in any delivery order.
 */
function planCommand(license: License, target: PlanTarget): { plan: Plan; effectiveAt?: Date } | null {
  const pending = license.pendingChange;
  const inLine = (plan: Plan, at: Date | null) =>
    pending !== null &&
    sameTerms({ id: pending.planId, limits: pending.limits }, plan) &&
    (at === null || pending.effectiveAt.getTime() === at.getTime());
  const withTime = (plan: Plan, at: Date | null) => (at === null ? { plan } : { plan, effectiveAt: at });
  const held = { id: license.planId, rank: license.planRank, limits: license.limits };
  if (!sameTerms(held, target.current)) {
    if (compareTerms(target.current, held) > 0) return { plan: target.current };
    return inLine(target.current, target.currentSince) ? null : withTime(target.current, target.currentSince);
  }
  if (target.pending === null) {
    if (pending === null) return null;
    // The terms the license has (the target's), asked again: drops the pending change.
    return { plan: target.current };
  }
  return inLine(target.pending, target.pendingAt) ? null : withTime(target.pending, target.pendingAt);
}

/** E-mails, rechecks and signals that follow from a settled license. */
function settledEffects(input: BillingDecisionInput): BillingDecision {
  const { state, license, now, paymentGraceMs } = input;
  const effects: BillingEffect[] = [];
  if (license === null) return { outcome: 'settled', effects };
  const email = (kind: EmailKind, dedupeKey: string, data: Record<string, string | number | boolean | null> = {}) =>
    effects.push({ type: 'email', kind, dedupeKey, data: { planId: license.planId, ...data } });
  const since = failingSince(state);

  if (license.status === 'revoked') {
    if (license.revocation?.reason === 'refund') email('license_revoked', `license_revoked:${license.id}`, { reason: 'refund' });
    return { outcome: 'settled', effects };
  }
  email('key_delivery', `key_delivery:${state.subscriptionId}`, {
    trial: license.trial !== null,
    periodEndsAt: license.periodEndsAt?.toISOString() ?? null,
  });
  if (since !== null) {
    const graceEndsAt = new Date(since.getTime() + paymentGraceMs);
    email('payment_failed', `payment_failed:${state.subscriptionId}:${since.getTime()}`, { graceEndsAt: graceEndsAt.toISOString() });
    if (graceEndsAt > now) effects.push({ type: 'recheck', at: graceEndsAt });
  }
  if (license.status === 'suspended' && license.suspension && HOLDS_BILLING_OWNS.has(license.suspension.reason)) {
    email('license_suspended', `license_suspended:${license.id}:${license.suspension.reason}:${license.suspension.at.getTime()}`, {
      reason: license.suspension.reason,
    });
  }
  if (state.dispute !== null) effects.push({ type: 'dispute_signal' });
  if (license.trial !== null && license.status === 'active') effects.push({ type: 'trial_started' });
  return { outcome: 'settled', effects };
}
