/**
 * Distributed key guessing: a sweep spread over many networks of one network group (a /16 or a
 * provider's IPv6 /32), each trying a handful of keys, so that no network comes near the
 * per-network key-guessing threshold. Real clients' misses (typos, deleted keys, old clients)
 * come from a few networks of a group at a time; a sweep from rented or compromised addresses
 * in one provider block comes from dozens.
 */
import type { DetectionThresholds } from './detection-thresholds.js';
import { flagged, NOT_FLAGGED, type SignalVerdict } from './signal-verdict.js';

/** One network group's misses over one 10-minute window. */
export interface DistributedKeyGuessingWindow {
  /** NOT_FOUND plus MALFORMED_KEY answers from the group. */
  readonly misses: number;
  /** Distinct networks (/24, /64) of the group among them. */
  readonly networks: number;
}

/**
 * Flags `networksPerGroup` or more networks with `missesPerNetworkGroup` or more misses between
 * them; the value is the number of networks (the spread is what this rule sees). Monotone: more
 * misses or networks never turn a flagged window back.
 */
export function evaluateDistributedKeyGuessing(
  window: DistributedKeyGuessingWindow,
  thresholds: Pick<DetectionThresholds, 'networksPerGroup' | 'missesPerNetworkGroup'>,
): SignalVerdict {
  if (window.networks < thresholds.networksPerGroup || window.misses < thresholds.missesPerNetworkGroup) return NOT_FLAGGED;
  return flagged(window.networks, thresholds.networksPerGroup, 40);
}
