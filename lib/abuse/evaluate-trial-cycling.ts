/**
 * Trial cycling: one person starting trial after trial under new customer accounts. A new trial
 * is linked to an earlier trial of another customer when they share a card fingerprint, a
 * normalised e-mail, a device fingerprint or an IP.
 */
import type { DetectionThresholds } from './detection-thresholds.js';

/** What is known about one trial (registration plus what its validations showed). */
export interface TrialProfile {
  readonly licenseId: string;
  readonly customerId: string;
  /** {@link normalizeEmail} of the customer's e-mail. */
  readonly emailNormalized: string | null;
  readonly cardFingerprint: string | null;
  readonly deviceFingerprints: readonly string[];
  readonly ips: readonly string[];
  readonly startedAt: Date;
}

/** What links two trials. */
export type TrialLink = 'card' | 'email' | 'device' | 'ip';

/** An earlier trial's customer linked to the new one. */
export interface LinkedCustomer {
  readonly customerId: string;
  /** The earliest linked trial of that customer. */
  readonly licenseId: string;
  readonly sharedBy: readonly TrialLink[];
}

/** The rule's answer. */
export type TrialCyclingVerdict =
  | { readonly flagged: false; readonly linked: readonly LinkedCustomer[] }
  | {
      readonly flagged: true;
      readonly value: number;
      readonly threshold: number;
      readonly severity: number;
      readonly linked: readonly LinkedCustomer[];
    };

/** Earlier trials older than this (365 days) are not compared. */
export const TRIAL_LOOKBACK_MS = 365 * 86_400_000;

/**
 * Links `trial` to the earlier trials of other customers among `others` (any order, may hold
 * `trial` itself and later trials, which are ignored). Flags at `linkedTrials` customers linked
 * by card, e-mail or device, or at `ipLinkedTrials` customers linked by IP alone (an office or
 * a carrier NAT shares IPs between honest people). The value is the number of linked customers
 * counted; linked customers are listed earliest first, at most 20.
 */
export function evaluateTrialCycling(
  trial: TrialProfile,
  others: readonly TrialProfile[],
  thresholds: Pick<DetectionThresholds, 'linkedTrials' | 'ipLinkedTrials'>,
): TrialCyclingVerdict {
  const byCustomer = new Map<string, { licenseId: string; startedAt: number; links: Set<TrialLink> }>();
  const devices = new Set(trial.deviceFingerprints);
  const ips = new Set(trial.ips);
  const start = trial.startedAt.getTime();
  for (const other of others) {
    if (other.customerId === trial.customerId || !isEarlier(other, trial) || start - other.startedAt.getTime() > TRIAL_LOOKBACK_MS) continue;
    const links: TrialLink[] = [];
    if (trial.cardFingerprint !== null && other.cardFingerprint === trial.cardFingerprint) links.push('card');
    if (trial.emailNormalized !== null && other.emailNormalized === trial.emailNormalized) links.push('email');
    if (other.deviceFingerprints.some((fingerprint) => devices.has(fingerprint))) links.push('device');
    if (other.ips.some((ip) => ips.has(ip))) links.push('ip');
    if (links.length === 0) continue;
    const known = byCustomer.get(other.customerId);
    const at = other.startedAt.getTime();
    if (!known) {
      byCustomer.set(other.customerId, { licenseId: other.licenseId, startedAt: at, links: new Set(links) });
      continue;
    }
    for (const link of links) known.links.add(link);
    if (at < known.startedAt) Object.assign(known, { licenseId: other.licenseId, startedAt: at });
  }
  const order: TrialLink[] = ['card', 'email', 'device', 'ip'];
  const linked = [...byCustomer.entries()]
    .sort(([, a], [, b]) => a.startedAt - b.startedAt)
    .map(([customerId, { licenseId, links }]) => ({ customerId, licenseId, sharedBy: order.filter((link) => links.has(link)) }));
  const strong = linked.filter((customer) => customer.sharedBy.some((link) => link !== 'ip')).length;
  const ipOnly = linked.length - strong;
  const listed = linked.slice(0, 20);
  if (strong >= thresholds.linkedTrials) {
    const value = ipOnly >= thresholds.ipLinkedTrials ? linked.length : strong;
    return { flagged: true, value, threshold: thresholds.linkedTrials, severity: severityOf(value), linked: listed };
  }
  if (ipOnly >= thresholds.ipLinkedTrials) {
    return { flagged: true, value: ipOnly, threshold: thresholds.ipLinkedTrials, severity: severityOf(ipOnly) - 10, linked: listed };
  }
  return { flagged: false, linked: listed };
}

/** 40 for one linked customer, +10 per further one, at most 100. */
function severityOf(linkedCustomers: number): number {
  return Math.min(100, 30 + 10 * linkedCustomers);
}

function isEarlier(other: TrialProfile, trial: TrialProfile): boolean {
  const a = other.startedAt.getTime();
  const b = trial.startedAt.getTime();
  return a < b || (a === b && other.licenseId < trial.licenseId);
}
