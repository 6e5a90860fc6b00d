/**
 * A subscription's history, as the set of snapshots its events (and API reads) showed: the order
 * they happened in, the snapshot that is current, and the plan the history implies. Everything
 * here is a pure function of the set, so any delivery order of the same events, with any
 * repeats, gives the same answers.
 *
 * Order comes only from what carries it: the event's `created` second; within one second,
 * deletion (last), a `previous_attributes` that names another snapshot of that second as the
 * state before (after it; item prices and quantities count), the period end (a later period is
 * later), and the status progression (incomplete → trialing → active → past_due → unpaid →
 * canceled). Event ids carry no order and are never compared; snapshots left tied with
 * different contents are reported as a tie, which the worker settles by reading the
 * subscription from the Stripe API when it has a key.
 */
import type { PlanCatalogue } from '../plans/plan-catalogue.js';
import { withSeats, type Plan } from '../plans/plan.js';
import type { PreviousSubscriptionAttributes, SubscriptionSnapshot, SubscriptionStatus } from './billing-event.js';

/** One snapshot billing has seen, and what orders it. */
export interface SnapshotFact {
  /** The Stripe event id, or `api` for a read of the subscription from the Stripe API. */
  readonly ref: string;
  /** The event's `created` (whole seconds), or the time of the API read. */
  readonly at: Date;
  /** From `customer.subscription.deleted`. */
  readonly deleted: boolean;
  readonly snapshot: SubscriptionSnapshot;
  readonly previous: PreviousSubscriptionAttributes | null;
}

const STATUS_RANK: Readonly<Record<SubscriptionStatus, number>> = {
  incomplete: 0,
  trialing: 1,
  active: 2,
  past_due: 3,
  unpaid: 4,
  paused: 4,
  canceled: 5,
  incomplete_expired: 5,
};

const ms = (date: Date | null | undefined): number => (date === null || date === undefined ? Number.NEGATIVE_INFINITY : date.getTime());
const priceIdsOf = (snapshot: SubscriptionSnapshot): string[] => snapshot.items.map((item) => item.priceId);
const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((value, i) => value === b[i]);

/** The snapshot's content as a canonical string: equal strings mean equal snapshots. */
export function snapshotContentKey(snapshot: SubscriptionSnapshot): string {
  return JSON.stringify([
    snapshot.status,
    snapshot.items.map((item) => [item.priceId, item.quantity]),
    ms(snapshot.currentPeriodStart),
    ms(snapshot.currentPeriodEnd),
    snapshot.cancelAtPeriodEnd,
    ms(snapshot.trialEnd),
    snapshot.stripeCustomerId,
    snapshot.defaultPaymentMethod,
  ]);
}

/** `later.previous` describes `earlier`'s snapshot: `later` is the change that followed it. */
function follows(later: SnapshotFact, earlier: SnapshotFact): boolean {
  const previous = later.previous;
  if (previous === null) return false;
  const before = earlier.snapshot;
  const checks: boolean[] = [];
  if (previous.status !== undefined) checks.push(previous.status === before.status);
  if (previous.cancelAtPeriodEnd !== undefined) checks.push(previous.cancelAtPeriodEnd === before.cancelAtPeriodEnd);
  if (previous.currentPeriodEnd !== undefined) checks.push(ms(previous.currentPeriodEnd) === ms(before.currentPeriodEnd));
  if (previous.priceIds !== undefined) checks.push(sameList(previous.priceIds, priceIdsOf(before)));
  if (previous.quantities !== undefined) checks.push(sameList(previous.quantities.map(String), before.items.map((item) => String(item.quantity))));
  return checks.length > 0 && checks.every(Boolean) && snapshotContentKey(before) !== snapshotContentKey(later.snapshot);
}

interface Ranked {
  readonly fact: SnapshotFact;
  /** The sort key inside one second, most significant first. */
  readonly key: readonly number[];
  readonly content: string;
}

const compareKeys = (a: readonly number[], b: readonly number[]): number => {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

/** Ranks the snapshots of one second (see the module comment). */
function rankSecond(group: readonly SnapshotFact[]): Ranked[] {
  const depth = new Map<SnapshotFact, number>();
  const depthOf = (fact: SnapshotFact, visiting: Set<SnapshotFact>): number => {
    const known = depth.get(fact);
    if (known !== undefined) return known;
    if (visiting.has(fact)) return 0; // a cycle of contradicting previous_attributes: no evidence
    visiting.add(fact);
    let best = 0;
    for (const other of group) if (other !== fact && follows(fact, other)) best = Math.max(best, 1 + depthOf(other, visiting));
    visiting.delete(fact);
    depth.set(fact, best);
    return best;
  };
  return group.map((fact) => ({
    fact,
    key: [fact.deleted ? 1 : 0, depthOf(fact, new Set()), ms(fact.snapshot.currentPeriodEnd), STATUS_RANK[fact.snapshot.status]],
    content: snapshotContentKey(fact.snapshot),
  }));
}

/** The facts deduplicated by `ref`, oldest first (see the module comment for the order). */
export function orderSnapshotFacts(facts: readonly SnapshotFact[]): SnapshotFact[] {
  const byRef = new Map<string, SnapshotFact>();
  for (const fact of facts) if (!byRef.has(fact.ref)) byRef.set(fact.ref, fact);
  const seconds = new Map<number, SnapshotFact[]>();
  for (const fact of byRef.values()) {
    const group = seconds.get(fact.at.getTime());
    if (group) group.push(fact);
    else seconds.set(fact.at.getTime(), [fact]);
  }
  const ordered: SnapshotFact[] = [];
  for (const at of [...seconds.keys()].sort((a, b) => a - b)) {
    const ranked = rankSecond(seconds.get(at) ?? []);
    // The content is the last key: an arbitrary but fixed order for true ties, never the event id.
    ranked.sort((a, b) => compareKeys(a.key, b.key) || (a.content < b.content ? -1 : a.content > b.content ? 1 : 0));
    ordered.push(...ranked.map((r) => r.fact));
  }
  return ordered;
}

/** The current snapshot, and whether it is tied with a different one nothing orders. */
export interface LatestSnapshot {
  readonly fact: SnapshotFact;
  /** Another snapshot of the same second is just as late and says something else. */
  readonly tied: boolean;
}

/** The newest snapshot of a set (see {@link orderSnapshotFacts}), or `null` for none. */
export function latestSnapshot(facts: readonly SnapshotFact[]): LatestSnapshot | null {
  const ordered = orderSnapshotFacts(facts);
  const last = ordered.at(-1);
  if (last === undefined) return null;
  const group = ordered.filter((fact) => fact.at.getTime() === last.at.getTime());
  const ranked = rankSecond(group);
  const top = ranked.find((r) => r.fact === last);
  // Also a tie: previous_attributes that point both ways (active → past_due → active, or the reverse).
  const tied =
    top !== undefined &&
    ranked.some((r) => r.fact !== last && r.content !== top.content && (compareKeys(r.key, top.key) === 0 || (follows(r.fact, last) && follows(last, r.fact))));
  return { fact: last, tied };
}

/**
 * The plan a snapshot pays for: the first item whose price the catalogue knows. `plan` carries
 * the seats bought: on a per-seat price its `limits.maxActivations` is the item's quantity (at
 * least 1), otherwise the catalogue's own.
 */
export type SnapshotPlan =
  | { readonly ok: true; readonly plan: Plan; readonly priceId: string; readonly quantity: number }
  | { readonly ok: false; readonly code: 'NO_PRICE' | 'UNKNOWN_PRICE'; readonly priceIds: readonly string[] };

/** Finds the plan among all items (an add-on such as extra seats or support may come first). */
export function planOfSnapshot(snapshot: SubscriptionSnapshot, plans: PlanCatalogue): SnapshotPlan {
  for (const item of snapshot.items) {
    const plan = plans.byStripePrice(item.priceId);
    if (!plan) continue;
    // Stripe allows quantity 0 on an item; a license with no seat would sell nothing, so 1.
    const seated = plans.isPerSeatPrice(item.priceId) ? withSeats(plan, Math.max(1, item.quantity)) : plan;
    return { ok: true, plan: seated, priceId: item.priceId, quantity: item.quantity };
  }
  return { ok: false, code: snapshot.items.length === 0 ? 'NO_PRICE' : 'UNKNOWN_PRICE', priceIds: priceIdsOf(snapshot) };
}

/**
 * How two plans (with their seats) compare: by rank, then, on one plan, by machine seats
 * (`null`, no machine binding, counts as unlimited). Above 0 means `a` is more than `b`: an
 * upgrade from `b` to `a` applies now, the other way round waits for the period end.
 */
export function compareTerms(a: Pick<Plan, 'rank' | 'limits'>, b: Pick<Plan, 'rank' | 'limits'>): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  const seats = (plan: Pick<Plan, 'limits'>) => plan.limits.maxActivations ?? Number.POSITIVE_INFINITY;
  const d = seats(a) - seats(b);
  return Number.isNaN(d) ? 0 : d;
}

/** The same plan with the same seats. */
export function sameTerms(a: Pick<Plan, 'id' | 'limits'>, b: Pick<Plan, 'id' | 'limits'>): boolean {
  return a.id === b.id && a.limits.maxActivations === b.limits.maxActivations;
}

/**
 * The plan a subscription's history implies now: the plan in force, and a downgrade waiting for
 * its time. Both carry their seats (`limits.maxActivations` is a per-seat price's quantity), so
 * a change of seats on one plan is an upgrade (more) or a downgrade (fewer) like a change of plan.
 */
export interface PlanTarget {
  readonly current: Plan;
  /**
   * Since when `current` is in force when it is a downgrade from an earlier period (the start of
   * the period it was made for, plus the grace), or `null` when the period is unknown.
   */
  readonly currentSince: Date | null;
  readonly pending: Plan | null;
  /** When `pending` takes effect: the end of the period it was made in, plus the grace. */
  readonly pendingAt: Date | null;
}

const periodOf = (snapshot: SubscriptionSnapshot): number => ms(snapshot.currentPeriodStart ?? snapshot.currentPeriodEnd);
const plusGrace = (date: Date | null, graceMs: number): Date | null => (date === null ? null : new Date(date.getTime() + graceMs));

/**
 * Upgrade now, downgrade at the period end, over the whole history of the current period: the
 * plan in force is the highest plan the subscription had in its current period (by rank, then
 * seats: see {@link compareTerms}; the period's first snapshot already shows a downgrade made in
 * the period before), and the last plan, when lower, waits for the period end (plus `graceMs`,
 * as the license's period does); once that time is past (`now`), it is the plan in force.
 * `null` when no snapshot names a catalogue price.
 */
export function targetPlan(facts: readonly SnapshotFact[], plans: PlanCatalogue, now: Date, graceMs: number): PlanTarget | null {
  const ordered = orderSnapshotFacts(facts);
  const last = ordered.at(-1);
  if (last === undefined) return null;
  const period = periodOf(last.snapshot);
  const history = ordered
    .filter((fact) => periodOf(fact.snapshot) === period)
    .flatMap((fact) => {
      const found = planOfSnapshot(fact.snapshot, plans);
      return found.ok ? [found.plan] : [];
    });
  const final = history.at(-1);
  if (final === undefined) return null;
  const highest = history.reduce((best, plan) => (compareTerms(plan, best) > 0 ? plan : best), final);
  const since = plusGrace(last.snapshot.currentPeriodStart, graceMs);
  if (sameTerms(final, highest)) return { current: final, currentSince: since, pending: null, pendingAt: null };
  const at = plusGrace(last.snapshot.currentPeriodEnd, graceMs);
  // The downgrade's period is over (its renewal not seen yet): it is in force since then.
  if (at !== null && at.getTime() <= now.getTime()) return { current: final, currentSince: at, pending: null, pendingAt: null };
  return { current: highest, currentSince: since, pending: final, pendingAt: at };
}

/** The latest period end any snapshot showed (periods are only ever extended). */
export function latestPeriodEnd(facts: readonly SnapshotFact[]): Date | null {
  let best: Date | null = null;
  for (const fact of facts) {
    const end = fact.snapshot.currentPeriodEnd;
    if (end !== null && (best === null || end.getTime() > best.getTime())) best = end;
  }
  return best;
}
