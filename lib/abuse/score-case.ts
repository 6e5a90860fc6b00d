/**
 * The case score: how strongly a case's signals suggest abuse now. Each signal adds its
 * severity (0-100), halved for every half-life since it was detected, and the sum is capped at
 * 100 and rounded. So one strong fresh signal (severity 80) scores 80; the same signal a week
 * later 40; three fresh medium ones (40 each) reach the cap. Old noise fades by itself, a burst
 * of fresh findings rises quickly.
 */

/** What scoring reads of a signal. */
export interface ScoredSignal {
  readonly severity: number;
  readonly detectedAt: Date;
}

/** Options for {@link scoreCase}. */
export interface ScoreCaseOptions {
  /** Time after which a signal counts half, in ms. Default 7 days. */
  readonly halfLifeMs?: number;
  /** Highest score. Default 100. */
  readonly cap?: number;
}

/** Default half-life of a signal's weight: 7 days. */
export const DEFAULT_HALF_LIFE_MS = 7 * 86_400_000;

/**
 * Scores signals as of `now`: sum of severity × 0.5^(age / half-life), capped, rounded to an
 * integer. A signal detected after `now` counts fully (clocks of workers differ slightly).
 * Severities outside 0-100 are clamped.
 */
export function scoreCase(signals: readonly ScoredSignal[], now: Date, options: ScoreCaseOptions = {}): number {
  const halfLife = options.halfLifeMs ?? DEFAULT_HALF_LIFE_MS;
  const cap = options.cap ?? 100;
  let sum = 0;
  for (const signal of signals) {
    const severity = Math.min(100, Math.max(0, Number.isFinite(signal.severity) ? signal.severity : 0));
    const age = Math.max(0, now.getTime() - signal.detectedAt.getTime());
    sum += severity * 0.5 ** (age / halfLife);
  }
  return Math.min(cap, Math.round(sum));
}
