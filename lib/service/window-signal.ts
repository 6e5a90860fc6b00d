/**
 * From a windowed rule's verdict to the stored {@link AbuseSignal}: the window, value, threshold
 * and the evidence read from the bucket hashes.
 */
import type { AbuseSignal, SignalEvidence, SignalSubject } from '../abuse/abuse-signal.js';
import { KEY_GUESSING_WINDOW_MS, type DetectionThresholds } from '../abuse/detection-thresholds.js';
import { evaluateSpoofingWindow } from '../abuse/evaluate-domain-spoofing.js';
import { evaluateGeoSpread } from '../abuse/evaluate-geo-spread.js';
import { evaluateKeyGuessing } from '../abuse/evaluate-key-guessing.js';
import { evaluateVelocity } from '../abuse/evaluate-velocity.js';
import { signalIdOf } from '../abuse/signal-id.js';
import type { SignalVerdict } from '../abuse/signal-verdict.js';
import { topCounts } from '../abuse/top-counts.js';
import type { BucketValues } from '../store/redis-abuse-window-store.js';
import type { WindowSubject } from './abuse-window-plan.js';


const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Applies the subject's rule to its bucket values (fields in READ_FIELDS order). */
export function evaluateWindow(subject: WindowSubject, values: BucketValues, thresholds: DetectionThresholds): SignalVerdict {
  const [a = 0, b = 0] = values.fields;
  switch (subject.rule) {
    case 'velocity':
      return evaluateVelocity({ validations: a, distinctIps: b }, thresholds);
    case 'geo_spread':
      return evaluateGeoSpread({ countries: a }, thresholds);
    case 'domain_spoofing':
      return evaluateSpoofingWindow({ spoofedRequests: a }, thresholds);
    case 'key_guessing':
      return evaluateKeyGuessing({ misses: a }, thresholds);
  }
}

/**
 * Velocity over the last hour rather than the clock hour, estimated from the current and the
 * previous hour bucket (the previous hour's validations weighted by how much of it the last
 * hour still covers; its distinct IPs taken whole, a lower bound of the union over two hours),
 * so that a burst straddling the hour boundary is not halved. `lastAt` is the latest event.
 */
export function slidingVelocity(current: readonly number[], previous: readonly number[], hourStart: number, lastAt: number): { validations: number; distinctIps: number; previousHourWeight: number } {
  const weight = Math.max(0, 1 - (lastAt - hourStart) / HOUR_MS);
  const [validations = 0, distinctIps = 0] = current;
  const [previousValidations = 0, previousIps = 0] = previous;
  return { validations: validations + Math.floor(previousValidations * weight), distinctIps: Math.max(distinctIps, previousIps), previousHourWeight: weight };
}

/** The buckets whose fields make the evidence of a flagged subject (the first is its own). */
export function evidenceBuckets(subject: WindowSubject, lastAt: number): string[] {
  if (subject.rule !== 'geo_spread') return [subject.bucket];
  // Top IPs of a geo spread: from the license's hour of its latest validation in the batch.
  return [subject.bucket, `h:${subject.licenseId}:${lastAt - (lastAt % HOUR_MS)}`];
}

/** The subject of a window's signal. */
function subjectOf(subject: WindowSubject): SignalSubject {
  return subject.rule === 'key_guessing' ? { type: 'network', network: subject.network } : { type: 'license', licenseId: subject.licenseId };
}

/** The id the signal of this window has (or would have). */
export function windowSignalId(subject: WindowSubject): string {
  return signalIdOf(subject.rule, subjectOf(subject), new Date(subject.windowStart));
}

/** Builds the signal of a flagged subject from its verdict and evidence bucket hashes. */
export function windowSignal(
  subject: WindowSubject,
  verdict: Extract<SignalVerdict, { flagged: true }>,
  hashes: readonly Readonly<Record<string, string>>[],
  lastSeen: Date,
  detectedAt: Date,
  extraDetails: Readonly<Record<string, number>> = {},
): AbuseSignal {
  const own = hashes[0] ?? {};
  const subjectValue = subjectOf(subject);
  const length = subject.rule === 'velocity' ? HOUR_MS : subject.rule === 'key_guessing' ? KEY_GUESSING_WINDOW_MS : DAY_MS;
  const start = new Date(subject.windowStart);
  const count = (field: string) => Number(own[field] ?? 0);
  const seen = { firstSeen: new Date(count('f')), lastSeen };
  let evidence: SignalEvidence;
  switch (subject.rule) {
    case 'velocity':
      evidence = {
        topIps: topCounts(own, 'i:'),
        fingerprints: topCounts(own, 'p:'),
        details: { validations: count('n'), distinctIps: count('d'), validationsFromIpsPastCap: count('d~'), ...extraDetails },
        ...seen,
      };
      break;
    case 'geo_spread':
      evidence = {
        countries: topCounts(own, 'c:', 300),
        topIps: topCounts(hashes[1] ?? {}, 'i:'),
        details: { countries: count('cd'), privateAddresses: count('xp'), unknownAddresses: count('xu') },
        ...seen,
      };
      break;
    case 'domain_spoofing':
      evidence = {
        referrers: topCounts(own, 'r:'),
        topIps: topCounts(own, 'i:'),
        details: Object.fromEntries([['spoofedRequests', count('n')], ...topCounts(own, 'o:').map(({ value, count: n }) => [value, n])]),
        ...seen,
      };
      break;
    case 'key_guessing':
      evidence = {
        topIps: topCounts(own, 'i:'),
        details: { misses: count('n'), notFound: count('nf'), malformedKey: count('mk'), distinctIps: count('d') },
        ...seen,
      };
      break;
  }
  return {
    id: signalIdOf(subject.rule, subjectValue, start),
    kind: subject.rule,
    subject: subjectValue,
    window: { start, end: new Date(subject.windowStart + length) },
    value: verdict.value,
    threshold: verdict.threshold,
    severity: verdict.severity,
    evidence,
    detectedAt,
  };
}
