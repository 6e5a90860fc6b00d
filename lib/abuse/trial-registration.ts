/** A trial as billing saw it start: what the trial-cycling rule compares with earlier trials. */

/** One new trial. Fields billing does not know are `null`. */
export interface TrialRegistration {
  readonly licenseId: string;
  readonly customerId: string;
  /** The customer's e-mail as given (the rule normalises it). */
  readonly email: string | null;
  /** Stripe card fingerprint of the payment method, when there is one. */
  readonly cardFingerprint: string | null;
  /** Device fingerprint, when known (e.g. from the first activation). */
  readonly deviceFingerprint: string | null;
  /** Client IP at checkout or first activation, when known. */
  readonly ip: string | null;
  readonly stripeSubscriptionId: string | null;
  readonly startedAt: Date;
}
