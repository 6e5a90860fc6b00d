/** Velocity: a key validated far more often, from far more places, than one customer would. */
import type { DetectionThresholds } from './detection-thresholds.js';
import { flagged, NOT_FLAGGED, type SignalVerdict } from './signal-verdict.js';

/** One key's counts over one hour. */
export interface VelocityWindow {
  readonly validations: number;
  readonly distinctIps: number;
}

/**
 * Flags more than `validationsPerHour` validations AND at least `distinctIpsPerHour` distinct IPs
 * in the hour. Both are needed: a large customer validates thousands of times an hour from a
 * few offices, and a handful of validations from many IPs is no burst. The value is the number
 * of validations.
 */
export function evaluateVelocity(window: VelocityWindow, thresholds: Pick<DetectionThresholds, 'validationsPerHour' | 'distinctIpsPerHour'>): SignalVerdict {
  if (window.validations <= thresholds.validationsPerHour) return NOT_FLAGGED;
  if (window.distinctIps < thresholds.distinctIpsPerHour) return NOT_FLAGGED;
  return flagged(window.validations, thresholds.validationsPerHour, 30);
}
