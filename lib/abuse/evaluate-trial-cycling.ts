/**
 * Trial cycling: one person starting trial after trial under new customer accounts. A new trial
 * is linked to an earlier trial of another customer when they share a card fingerprint, a
 * normalised e-mail, a device fingerprint or a network (an IPv4 address, or an IPv6 /64).
 *
 * A link by network alone is weak evidence, and weaker still on a network that many unrelated
 * customers use (a university, an office or a carrier NAT): each network link is weighed by
 * {@link networkLinkWeight}, so five students behind one campus address are not a ring, while
 * one person's five e-mail variants (a strong link) are flagged on any network.
 */
import type { DetectionThresholds } from './detection-thresholds.js';
import { networkOf } from './network-of.js';
import { formatIpAddress, parseIpAddress } from './ip-address.js';

/** What is known about one trial (registration plus what its activations and validations showed). */
export interface TrialProfile {
  readonly licenseId: string;
  readonly customerId: string;
  /** {@link normalizeEmail} of the customer's e-mail. */
  readonly emailNormalized: string | null;
  readonly cardFingerprint: string | null;
  readonly deviceFingerprints: readonly string[];
  /** Client addresses of the trial's first activations and validations (not an operator's). */
  readonly ips: readonly string[];
  readonly startedAt: Date;
}

/** What links two trials (`ip`: a shared network, see {@link trialNetworkOf}). */
export type TrialLink = 'card' | 'email' | 'device' | 'ip';

/** An earlier trial's customer linked to the new one. */
export interface LinkedCustomer {
  readonly customerId: string;
  /** The earliest linked trial of that customer. */
  readonly licenseId: string;
  readonly sharedBy: readonly TrialLink[];
  /**
   * Only for a customer linked by network alone: what the link counts for, in (0, 1]
   * ({@link networkLinkWeight} of the least shared network in common).
   */
  readonly weight?: number;
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

/** Thresholds of the rule. */
export type TrialCyclingThresholds = Pick<DetectionThresholds, 'linkedTrials' | 'ipLinkedTrials'> & {
  /**
   * Unrelated customers on a network that halve the weight of a link by that network.
   * Default {@link SHARED_NETWORK_CUSTOMERS}.
   */
  readonly sharedNetworkCustomers?: number;
};

/** Earlier trials older than this (365 days) are not compared. */
export const TRIAL_LOOKBACK_MS = 365 * 86_400_000;

/** Default `sharedNetworkCustomers`: 5 unrelated customers on a network halve its links' weight. */
export const SHARED_NETWORK_CUSTOMERS = 5;

/**
 * The network two trials are compared by: an IPv4 address as it is (a NAT shares one address,
 * and a neighbour in the same /24 is a stranger), an IPv6 address's /64 (privacy addresses change
 * within the /64 one household is given). Text that is not an address stays as it is.
 */
export function trialNetworkOf(ip: string): string {
  const address = parseIpAddress(ip);
  if (!address) return ip;
  return address.version === 4 ? formatIpAddress(address) : networkOf(ip);
}

/**
 * What a link by `network` alone counts for: `s / (s + u)` for `u` unrelated customers seen on
 * the network (customers with no trial linked to the one judged), `s` =
 * `sharedNetworkCustomers`. 1 on a network nobody else uses, ½ at `s` unrelated customers,
 * about 0.09 at 50.
 */
export function networkLinkWeight(unrelatedCustomers: number, sharedNetworkCustomers: number = SHARED_NETWORK_CUSTOMERS): number {
  return sharedNetworkCustomers / (sharedNetworkCustomers + Math.max(0, unrelatedCustomers));
}

/**
 * Links `trial` to the earlier trials of other customers among `others` (any order, may hold
 * `trial` itself and later trials, which are ignored). Flags at `linkedTrials` customers linked
 * by card, e-mail or device, or when the customers linked by network alone weigh
 * `ipLinkedTrials` or more: each counts {@link networkLinkWeight} of the least shared network it
 * has in common with `trial`, from `unrelatedCustomersOn` (network → unrelated customers seen on
 * it; a network missing from the map has none). The value is the number of customers linked
 * strongly plus the weight of those linked by network (when that weight reaches its threshold),
 * rounded to 2 decimals; linked customers are listed earliest first, at most 20.
 */
export function evaluateTrialCycling(
  trial: TrialProfile,
  others: readonly TrialProfile[],
  thresholds: TrialCyclingThresholds,
  unrelatedCustomersOn: ReadonlyMap<string, number> = new Map(),
): TrialCyclingVerdict {
  const byCustomer = new Map<string, { licenseId: string; startedAt: number; links: Set<TrialLink>; weight: number }>();
  const devices = new Set(trial.deviceFingerprints);
  const networks = new Set(trial.ips.map(trialNetworkOf));
  const shared = thresholds.sharedNetworkCustomers ?? SHARED_NETWORK_CUSTOMERS;
  const start = trial.startedAt.getTime();
  for (const other of others) {
    if (other.customerId === trial.customerId || !isEarlier(other, trial) || start - other.startedAt.getTime() > TRIAL_LOOKBACK_MS) continue;
    const links: TrialLink[] = [];
    if (trial.cardFingerprint !== null && other.cardFingerprint === trial.cardFingerprint) links.push('card');
    if (trial.emailNormalized !== null && other.emailNormalized === trial.emailNormalized) links.push('email');
    if (other.deviceFingerprints.some((fingerprint) => devices.has(fingerprint))) links.push('device');
    let weight = 0;
    for (const network of new Set(other.ips.map(trialNetworkOf))) {
      if (networks.has(network)) weight = Math.max(weight, networkLinkWeight(unrelatedCustomersOn.get(network) ?? 0, shared));
    }
    if (weight > 0) links.push('ip');
    if (links.length === 0) continue;
    const known = byCustomer.get(other.customerId);
    const at = other.startedAt.getTime();
    if (!known) {
      byCustomer.set(other.customerId, { licenseId: other.licenseId, startedAt: at, links: new Set(links), weight });
      continue;
    }
    for (const link of links) known.links.add(link);
    known.weight = Math.max(known.weight, weight);
    if (at < known.startedAt || (at === known.startedAt && other.licenseId < known.licenseId)) Object.assign(known, { licenseId: other.licenseId, startedAt: at });
  }
  const order: TrialLink[] = ['card', 'email', 'device', 'ip'];
  const linked: LinkedCustomer[] = [...byCustomer.entries()]
    .sort(([a, x], [b, y]) => x.startedAt - y.startedAt || (a < b ? -1 : a > b ? 1 : 0))
    .map(([customerId, { licenseId, links, weight }]) => {
      const sharedBy = order.filter((link) => links.has(link));
      return sharedBy.length === 1 && sharedBy[0] === 'ip' ? { customerId, licenseId, sharedBy, weight: round(weight) } : { customerId, licenseId, sharedBy };
    });
  const strong = linked.filter((customer) => customer.weight === undefined).length;
  // Summed in a fixed order (earliest first), so the same trials give the same float.
  const networkWeight = round(linked.reduce((sum, customer) => sum + (customer.weight ?? 0), 0));
  const listed = linked.slice(0, 20);
  if (strong >= thresholds.linkedTrials) {
    const value = networkWeight >= thresholds.ipLinkedTrials ? round(strong + networkWeight) : strong;
    return { flagged: true, value, threshold: thresholds.linkedTrials, severity: severityOf(value), linked: listed };
  }
  if (networkWeight >= thresholds.ipLinkedTrials) {
    return { flagged: true, value: networkWeight, threshold: thresholds.ipLinkedTrials, severity: severityOf(networkWeight) - 10, linked: listed };
  }
  return { flagged: false, linked: listed };
}

/** 40 for one linked customer, +10 per further one, at most 100 (whole points). */
function severityOf(linkedCustomers: number): number {
  return Math.min(100, Math.round(30 + 10 * linkedCustomers));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function isEarlier(other: TrialProfile, trial: TrialProfile): boolean {
  const a = other.startedAt.getTime();
  const b = trial.startedAt.getTime();
  return a < b || (a === b && other.licenseId < trial.licenseId);
}
