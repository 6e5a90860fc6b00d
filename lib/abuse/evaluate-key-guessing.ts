/** Key guessing: a client network trying keys that do not exist. */
import type { DetectionThresholds } from './detection-thresholds.js';
import { flagged, NOT_FLAGGED, type SignalVerdict } from './signal-verdict.js';

/** One network's misses over one key-guessing window (10 minutes). */
export interface KeyGuessingWindow {
  /** NOT_FOUND plus MALFORMED_KEY answers. */
  readonly misses: number;
}

/** Flags `missesPerNetwork` or more misses in the window; the value is the number of misses. */
export function evaluateKeyGuessing(window: KeyGuessingWindow, thresholds: Pick<DetectionThresholds, 'missesPerNetwork'>): SignalVerdict {
  if (window.misses < thresholds.missesPerNetwork) return NOT_FLAGGED;
  return flagged(window.misses, thresholds.missesPerNetwork, 40);
}
