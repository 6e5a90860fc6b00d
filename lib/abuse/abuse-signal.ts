/**
 * An abuse signal: what one detector rule found about one subject in one window, with the
 * evidence a reviewer needs. Plain data; the detector stores it and the case roll-up scores it.
 */

/** The rules that raise signals (design.md, Events and abuse detection), and payment disputes. */
export const SIGNAL_KINDS = [
  'velocity',
  'geo_spread',
  'domain_spoofing',
  'trial_cycling',
  'key_guessing',
  'payment_dispute',
  'seat_sharing',
  'distributed_key_guessing',
] as const;

/** One of {@link SIGNAL_KINDS}. */
export type SignalKind = (typeof SIGNAL_KINDS)[number];

/** What a signal is about: a license, or (key guessing) a client network with no license. */
export type SignalSubject =
  | { readonly type: 'license'; readonly licenseId: string }
  /**
   * `203.0.113.0/24`, `2001:db8:1:2::/64`, or one address `198.51.100.7/32`; for distributed key
   * guessing the network group the sweep came from, `45.83.0.0/16` or `2a00:1450::/32`.
   */
  | { readonly type: 'network'; readonly network: string };

/** A value and how often it was seen in the window, for "top N" evidence. */
export interface CountedValue {
  readonly value: string;
  readonly count: number;
}

/**
 * What the rule saw. Every list is the top entries by count, at most 20 long, except `countries`,
 * which holds every country seen (up to the 300 the window counts): for a geo-spread signal the
 * spread itself is the evidence.
 */
export interface SignalEvidence {
  readonly topIps?: readonly CountedValue[];
  /** Every country seen in the window, most frequent first. */
  readonly countries?: readonly CountedValue[];
  readonly referrers?: readonly CountedValue[];
  readonly fingerprints?: readonly CountedValue[];
  /** Networks (/24, /64) of a network group that tried unknown keys, by misses (distributed key guessing). */
  readonly networks?: readonly CountedValue[];
  /** User-Agent headers seen, by count (distributed key guessing; `-` for none). */
  readonly userAgents?: readonly CountedValue[];
  /** Customers linked to this one (trial cycling), with what links them. */
  readonly linkedCustomers?: readonly { readonly customerId: string; readonly licenseId: string | null; readonly sharedBy: readonly string[] }[];
  /** Free-form facts for the reviewer, e.g. `{ claimedDomain: 'a.com', origin: 'b.com' }`. */
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
  readonly firstSeen: Date;
  readonly lastSeen: Date;
}

/** One stored signal. */
export interface AbuseSignal {
  /**
   * Deterministic id, `sig_<kind>_<subject>_<window start ms>`: the same finding computed twice
   * (an entry reprocessed after a crash) has the same id, so storing it is idempotent.
   */
  readonly id: string;
  readonly kind: SignalKind;
  readonly subject: SignalSubject;
  /** The window the value was measured over. */
  readonly window: { readonly start: Date; readonly end: Date };
  /** The measured value (validations, distinct IPs, countries, linked accounts, misses …). */
  readonly value: number;
  /** The threshold it crossed (from the plan's abuseThresholds or the defaults). */
  readonly threshold: number;
  /** How strongly it suggests abuse, 0-100; the case score adds these up. */
  readonly severity: number;
  readonly evidence: SignalEvidence;
  readonly detectedAt: Date;
}
