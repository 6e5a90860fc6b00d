/** Geo spread: one key used from more countries in a day than one customer plausibly spans. */
import type { DetectionThresholds } from './detection-thresholds.js';
import { flagged, NOT_FLAGGED, type SignalVerdict } from './signal-verdict.js';

/** One key's country counts over one UTC day. */
export interface GeoWindow {
  /** Distinct countries (geoip-lite ISO codes); private and unknown addresses are not countries. */
  readonly countries: number;
}

/** Flags `countriesPerDay` or more distinct countries in the day; the value is the country count. */
export function evaluateGeoSpread(window: GeoWindow, thresholds: Pick<DetectionThresholds, 'countriesPerDay'>): SignalVerdict {
  if (window.countries < thresholds.countriesPerDay) return NOT_FLAGGED;
  return flagged(window.countries, thresholds.countriesPerDay, 40);
}
