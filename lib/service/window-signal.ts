/**
 * From slot buckets to windows to stored {@link AbuseSignal}s. A window is a rule's run of
 * consecutive slots (abuse-window-plan.ts, WINDOW_GEOMETRY) for one subject; its measures are
 * pure functions of its slots' bucket hashes, so they do not depend on how the stream was cut
 * into batches. Two steps: a cheap screen on the counters the Lua script returns (most windows
 * stop there), then the exact measures and evidence from the full hashes of the few that pass.
 */
import type { AbuseSignal, SignalEvidence, SignalSubject } from '../abuse/abuse-signal.js';
import type { DetectionThresholds } from '../abuse/detection-thresholds.js';
import { evaluateDistributedKeyGuessing } from '../abuse/evaluate-distributed-key-guessing.js';
import { evaluateSpoofingWindow } from '../abuse/evaluate-domain-spoofing.js';
import { evaluateGeoSpread } from '../abuse/evaluate-geo-spread.js';
import { evaluateKeyGuessing } from '../abuse/evaluate-key-guessing.js';
import { evaluateSeatSharing, unseatedMachinesAllowed } from '../abuse/evaluate-seat-sharing.js';
import { evaluateVelocity } from '../abuse/evaluate-velocity.js';
import { signalIdOf } from '../abuse/signal-id.js';
import type { SignalVerdict } from '../abuse/signal-verdict.js';
import type { CountedValue } from '../abuse/abuse-signal.js';
import { COUNT_IPS_FROM_VALIDATIONS, DISTINCT_CAPS, isNetworkRule, slotBucket, WINDOW_GEOMETRY, type WindowRule } from './abuse-window-plan.js';

/** One window of one subject: its rule, subject (license id or network) and start (its first slot's start). */
export interface WindowRef {
  readonly rule: WindowRule;
  readonly subject: string;
  readonly windowStart: number;
}

/** The slot bucket names of a window, earliest first. */
export function windowBuckets(window: WindowRef): string[] {
  const { slotMs, slots } = WINDOW_GEOMETRY[window.rule];
  return Array.from({ length: slots }, (_, i) => slotBucket(window.rule, window.subject, window.windowStart + i * slotMs));
}

/** The id of a window's signal. */
export function windowSignalId(window: WindowRef): string {
  return signalIdOf(window.rule, signalSubjectOf(window), new Date(window.windowStart));
}

function signalSubjectOf(window: WindowRef): SignalSubject {
  // Seat sharing and geo spread share a license's buckets but are separate signals.
  return isNetworkRule(window.rule) ? { type: 'network', network: window.subject } : { type: 'license', licenseId: window.subject };
}

const NO_FIELDS: readonly number[] = [];

/**
 * Whether a window may be flagged, from its slots' READ_FIELDS counters (earliest slot first,
 * `b` empty for a one-slot window or a missing slot). `false` is final; `true` means: read the
 * hashes and measure. Called for every touched slot, so it allocates nothing.
 */
export function mayFlag(rule: WindowRule, a: readonly number[], b: readonly number[] = NO_FIELDS, thresholds: DetectionThresholds, seats: number | null = null): boolean {
  switch (rule) {
    case 'velocity': {
      const [na = 0, da = 0] = a;
      const [nb = 0, db = 0] = b;
      if (na + nb <= thresholds.validationsPerHour) return false;
      // A slot's IPs are counted (`d`) only past COUNT_IPS_FROM_VALIDATIONS validations; below,
      // it holds at most as many IPs as validations.
      const most = (n: number, d: number) => (n <= COUNT_IPS_FROM_VALIDATIONS ? n : d >= DISTINCT_CAPS.ips ? Infinity : d);
      return most(na, da) + most(nb, db) >= thresholds.distinctIpsPerHour;
    }
    case 'geo_spread':
      return (a[1] ?? 0) + (b[1] ?? 0) >= thresholds.countriesPerDay;
    case 'seat_sharing':
      return seats !== null && (a[2] ?? 0) + (b[2] ?? 0) > unseatedMachinesAllowed(seats);
    case 'domain_spoofing':
      return (a[0] ?? 0) + (b[0] ?? 0) >= thresholds.spoofedRequestsPerDay;
    case 'key_guessing':
      return (a[0] ?? 0) + (b[0] ?? 0) >= thresholds.missesPerNetwork;
    case 'distributed_key_guessing':
      // A network in both slots counts twice here: an upper bound, the measure takes the union.
      return (a[0] ?? 0) + (b[0] ?? 0) >= thresholds.missesPerNetworkGroup && (a[1] ?? 0) + (b[1] ?? 0) >= thresholds.networksPerGroup;
  }
}

/** A window's verdict and evidence, measured exactly from its slots' hashes (earliest first). */
export interface WindowMeasure {
  readonly verdict: SignalVerdict;
  readonly evidence: Omit<SignalEvidence, 'lastSeen' | 'firstSeen'>;
  /** Earliest `f` of its slots (epoch ms), or null when no slot exists. */
  readonly firstSeen: number | null;
}

/**
 * Measures a window: counts summed over its slots, distinct values as the union of the slots'
 * fields. `extra` is the license's velocity slot of the latest event, for a geo spread's top IPs.
 */
export function measureWindow(
  rule: WindowRule,
  hashes: readonly Readonly<Record<string, string>>[],
  thresholds: DetectionThresholds,
  extra: Readonly<Record<string, string>> = {},
  seats: number | null = null,
): WindowMeasure {
  const count = (field: string) => hashes.reduce((total, hash) => total + Number(hash[field] ?? 0), 0);
  const firsts = hashes.map((hash) => Number(hash['f'] ?? NaN)).filter((f) => !Number.isNaN(f));
  const firstSeen = firsts.length === 0 ? null : Math.min(...firsts);
  switch (rule) {
    case 'velocity': {
      const ips = mergeCounts(hashes, 'i:');
      const validations = count('n');
      const distinctIps = ips.size;
      return {
        verdict: evaluateVelocity({ validations, distinctIps }, thresholds),
        evidence: {
          topIps: top(ips),
          fingerprints: top(mergeCounts(hashes, 'p:')),
          details: { validations, distinctIps, validationsFromIpsPastCap: count('d~') },
        },
        firstSeen,
      };
    }
    case 'geo_spread': {
      const countries = mergeCounts(hashes, 'c:');
      return {
        verdict: evaluateGeoSpread({ countries: countries.size }, thresholds),
        evidence: {
          countries: top(countries, DISTINCT_CAPS.countries),
          topIps: top(mergeCounts([extra], 'i:')),
          details: {
            countries: countries.size,
            validations: count('n'),
            privateAddresses: mergeCounts(hashes, 'x:').size,
            unknownAddresses: mergeCounts(hashes, 'u:').size,
          },
        },
        firstSeen,
      };
    }
    case 'seat_sharing': {
      const machines = mergeCounts(hashes, 'q:');
      return {
        verdict: evaluateSeatSharing({ seats, unseatedMachines: machines.size }),
        evidence: {
          fingerprints: top(machines),
          details: { seats, unseatedMachines: machines.size, unseatedMachinesAllowed: seats === null ? null : unseatedMachinesAllowed(seats), notActivatedAnswers: count('na'), validations: count('n') },
        },
        firstSeen,
      };
    }
    case 'domain_spoofing': {
      const spoofedRequests = count('n');
      return {
        verdict: evaluateSpoofingWindow({ spoofedRequests }, thresholds),
        evidence: {
          referrers: top(mergeCounts(hashes, 'r:')),
          topIps: top(mergeCounts(hashes, 'i:')),
          details: Object.fromEntries([['spoofedRequests', spoofedRequests], ...top(mergeCounts(hashes, 'o:')).map(({ value, count: n }) => [value, n])]),
        },
        firstSeen,
      };
    }
    case 'key_guessing': {
      const ips = mergeCounts(hashes, 'i:');
      const misses = count('n');
      return {
        verdict: evaluateKeyGuessing({ misses }, thresholds),
        evidence: { topIps: top(ips), details: { misses, notFound: count('nf'), malformedKey: count('mk'), distinctIps: ips.size } },
        firstSeen,
      };
    }
    case 'distributed_key_guessing': {
      const networks = mergeCounts(hashes, 'w:');
      const ips = mergeCounts(hashes, 'i:');
      const misses = count('n');
      return {
        verdict: evaluateDistributedKeyGuessing({ misses, networks: networks.size }, thresholds),
        evidence: {
          networks: top(networks, DISTINCT_CAPS.groupNetworks),
          topIps: top(ips),
          userAgents: top(mergeCounts(hashes, 'a:')),
          details: { misses, networks: networks.size, notFound: count('nf'), malformedKey: count('mk'), distinctIps: ips.size, userAgents: mergeCounts(hashes, 'a:').size },
        },
        firstSeen,
      };
    }
  }
}

/** The signal of a flagged window. */
export function windowSignal(window: WindowRef, verdict: Extract<SignalVerdict, { flagged: true }>, measure: WindowMeasure, lastSeen: Date, detectedAt: Date): AbuseSignal {
  const { slotMs, slots } = WINDOW_GEOMETRY[window.rule];
  const subject = signalSubjectOf(window);
  const start = new Date(window.windowStart);
  return {
    id: signalIdOf(window.rule, subject, start),
    kind: window.rule,
    subject,
    window: { start, end: new Date(window.windowStart + slots * slotMs) },
    value: verdict.value,
    threshold: verdict.threshold,
    severity: verdict.severity,
    evidence: { ...measure.evidence, firstSeen: new Date(measure.firstSeen ?? lastSeen.getTime()), lastSeen },
    detectedAt,
  };
}

/** Counts of the fields with `prefix` summed over hashes, by value (prefix removed). */
function mergeCounts(hashes: readonly Readonly<Record<string, string>>[], prefix: string): Map<string, number> {
  const merged = new Map<string, number>();
  for (const hash of hashes) {
    for (const [field, count] of Object.entries(hash)) {
      if (field.startsWith(prefix)) {
        const value = field.slice(prefix.length);
        merged.set(value, (merged.get(value) ?? 0) + Number(count));
      }
    }
  }
  return merged;
}

/** The top `limit` values by count (ties by value). */
function top(counts: ReadonlyMap<string, number>, limit = 20): CountedValue[] {
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, limit);
}
