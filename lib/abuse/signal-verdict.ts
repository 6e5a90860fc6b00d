/** What a windowed rule decided, and how severity follows from it. */

/** A rule's answer for one subject and window. */
export type SignalVerdict =
  | { readonly flagged: false }
  | { readonly flagged: true; readonly value: number; readonly threshold: number; readonly severity: number };

/** The "not flagged" verdict. */
export const NOT_FLAGGED: SignalVerdict = { flagged: false };

/**
 * A flagged verdict whose severity grows with how far the value went past the threshold:
 * `base` at the threshold, up to 2.5x `base` (capped at 100) at 2.5x the threshold or more.
 */
export function flagged(value: number, threshold: number, base: number): SignalVerdict {
  const ratio = Math.min(2.5, value / Math.max(1, threshold));
  return { flagged: true, value, threshold, severity: Math.min(100, Math.round(base * Math.max(1, ratio))) };
}
