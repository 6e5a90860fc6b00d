/**
 * The abuse detector's thresholds: defaults from design.md, overridden per plan through
 * `Plan.abuseThresholds`. docs/abuse-detection.md says why each default is what it is.
 */
import type { AbuseThresholds } from '../plans/plan.js';

/** Every threshold the rules use, resolved. */
export interface DetectionThresholds {
  /** Velocity: validations per clock hour on one key, flagged when exceeded. Default 1000. */
  readonly validationsPerHour: number;
  /** Velocity: distinct IPs in that hour, which must be reached as well. Default 50. */
  readonly distinctIpsPerHour: number;
  /** Geo spread: distinct countries per UTC day on one key, flagged when reached. Default 20. */
  readonly countriesPerDay: number;
  /** Domain spoofing: spoofed requests per UTC day on one key, flagged when reached. Default 1. */
  readonly spoofedRequestsPerDay: number;
  /** Key guessing: NOT_FOUND / MALFORMED_KEY answers per network per 10 minutes, flagged when reached. Default 30. */
  readonly missesPerNetwork: number;
  /**
   * Distributed key guessing: distinct networks (/24, /64) of one network group (/16, /32) that
   * missed in one 10-minute window, flagged when reached together with
   * {@link DetectionThresholds.missesPerNetworkGroup}. Default 20.
   */
  readonly networksPerGroup: number;
  /** Distributed key guessing: NOT_FOUND / MALFORMED_KEY answers of the group in that window. Default 40. */
  readonly missesPerNetworkGroup: number;
  /** Trial cycling: earlier trials of other customers linked by card, e-mail or device. Default 1. */
  readonly linkedTrials: number;
  /** Trial cycling: earlier trials of other customers linked by IP alone (offices and NAT share IPs). Default 3. */
  readonly ipLinkedTrials: number;
}

/** The defaults (design.md, Events and abuse detection). */
export const DEFAULT_DETECTION_THRESHOLDS: DetectionThresholds = {
  validationsPerHour: 1000,
  distinctIpsPerHour: 50,
  countriesPerDay: 20,
  spoofedRequestsPerDay: 1,
  missesPerNetwork: 30,
  networksPerGroup: 20,
  missesPerNetworkGroup: 40,
  linkedTrials: 1,
  ipLinkedTrials: 3,
};

/** Length of the key-guessing window: 10 minutes. */
export const KEY_GUESSING_WINDOW_MS = 10 * 60_000;

/**
 * The thresholds for a license on a plan: the plan's overrides where it has them, the defaults
 * (or `base`) elsewhere. `undefined` overrides (no plan found) give `base` unchanged.
 */
export function resolveThresholds(
  overrides: AbuseThresholds | undefined,
  base: DetectionThresholds = DEFAULT_DETECTION_THRESHOLDS,
): DetectionThresholds {
  if (!overrides) return base;
  return {
    ...base,
    validationsPerHour: overrides.validationsPerHour ?? base.validationsPerHour,
    distinctIpsPerHour: overrides.distinctIpsPerHour ?? base.distinctIpsPerHour,
    countriesPerDay: overrides.countriesPerDay ?? base.countriesPerDay,
  };
}
