/**
 * A trial as it starts, from whichever path created it (the license service for the admin API,
 * the CLI and `createKeyward`; billing adds the card for Stripe trials), and what its first
 * activations and validations show: what the trial-cycling rule compares with earlier trials.
 */

/** One new trial. Fields the path does not know are `null`. */
export interface TrialRegistration {
  readonly licenseId: string;
  /**
   * The customer; a trial issued without one is its own customer, `license:<licenseId>`
   * (see {@link trialCustomerOf}), so customerless trials are compared with each other.
   */
  readonly customerId: string;
  /** The customer's e-mail as given (the rule normalises it). */
  readonly email: string | null;
  /** Stripe card fingerprint of the payment method, when there is one. */
  readonly cardFingerprint: string | null;
  /** Device fingerprint, when known (e.g. from the first activation). */
  readonly deviceFingerprint: string | null;
  /** The customer's client IP (first activation or validation), when known; never an operator's. */
  readonly ip: string | null;
  readonly stripeSubscriptionId: string | null;
  readonly startedAt: Date;
}

/** Device fingerprints and client IPs seen on one trial license (activations, validations). */
export interface TrialSighting {
  readonly licenseId: string;
  /** The license's customer, {@link trialCustomerOf}; used when the trial was not registered before. */
  readonly customerId: string;
  readonly startedAt: Date;
  readonly deviceFingerprints: readonly string[];
  readonly ips: readonly string[];
}

/**
 * Where the paths that create or activate trials record them (the trial-registration store).
 * Both writes are idempotent by license id and mark the trial for evaluation by the worker's
 * trial watch.
 */
export interface TrialRecorder {
  /** Stores new trials (a repeat fills in what was unknown). */
  register(registrations: readonly TrialRegistration[], now: Date): Promise<void>;
  /** Adds what activations showed. */
  addSightings(sightings: readonly TrialSighting[], now: Date): Promise<void>;
}

/** The customer a trial is compared as: its customer id, or `license:<licenseId>` when it has none. */
export function trialCustomerOf(licenseId: string, customerId: string | null): string {
  return customerId === null || customerId === '' ? `license:${licenseId}` : customerId;
}
