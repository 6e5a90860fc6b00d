/** Plans: what a license allows, and the abuse thresholds that apply to it. */

/** Limits a plan puts on one license. `null` switches a limit (and its check) off. */
export interface PlanLimits {
  /**
   * Machine seats. A number means validation needs an activated fingerprint and at most this
   * many are bound at once; `null` means no machine binding.
   */
  readonly maxActivations: number | null;
  /**
   * Licensed domains. A number means validation needs a claimed domain that is activated, at
   * most this many; `null` means no domain binding.
   */
  readonly maxDomains: number | null;
  /** Validations per calendar month (UTC); `null` for no quota. */
  readonly validationsPerMonth: number | null;
  /**
   * Floating seats: `maxActivations` then limits the machines in use at once, not the machines
   * ever bound. A machine holds its seat while it sends heartbeats; one that sends none for
   * `heartbeatSeconds` frees it for the next check-out. Absent: fixed seats.
   */
  readonly floating?: FloatingSeats;
}

/** The terms of floating seats. */
export interface FloatingSeats {
  /** A seat is held this long after its check-out or last heartbeat (10 to 86,400 seconds). */
  readonly heartbeatSeconds: number;
}

/** Per-plan overrides of the abuse detector's default thresholds. */
export interface AbuseThresholds {
  /** Validations per hour on one key above which velocity is flagged. Default 1000. */
  readonly validationsPerHour?: number;
  /** Distinct IPs per hour on one key that make a burst suspicious. Default 50. */
  readonly distinctIpsPerHour?: number;
  /** Distinct countries per day on one key that flag geographic spread. Default 20. */
  readonly countriesPerDay?: number;
  /** Case score above which the license is suspended automatically; absent = never (default). */
  readonly autoSuspendScore?: number;
}

/** One plan of the catalogue. */
export interface Plan {
  /** Stable identifier, e.g. `pro`. */
  readonly id: string;
  /** Display name. */
  readonly name: string;
  /** Order of plans: a change to a higher rank is an upgrade, to a lower one a downgrade. */
  readonly rank: number;
  readonly limits: PlanLimits;
  /** Feature flags granted by the plan, returned to clients on validation. */
  readonly features: readonly string[];
  /** Length of a trial on this plan in days; 0 for no trial. */
  readonly trialDays: number;
  /** Stripe price ids that provision this plan (per-seat ones included). */
  readonly stripePriceIds: readonly string[];
  /**
   * The prices among `stripePriceIds` sold per seat: a subscription item on one of them sets the
   * license's machine seats (`limits.maxActivations`, the seats in use at once when floating) to
   * its `quantity`. Absent: none (every price gives the plan's own seats).
   */
  readonly perSeatStripePriceIds?: readonly string[];
  /** Abuse thresholds that override the defaults for licenses on this plan. */
  readonly abuseThresholds: AbuseThresholds;
}

/**
 * The plan with its machine seats set to `seats` (a per-seat price's quantity): the terms a
 * license bought that many seats of gets. A plan without machine seats is returned unchanged.
 */
export function withSeats(plan: Plan, seats: number): Plan {
  if (plan.limits.maxActivations === null || plan.limits.maxActivations === seats) return plan;
  return { ...plan, limits: { ...plan.limits, maxActivations: seats } };
}
