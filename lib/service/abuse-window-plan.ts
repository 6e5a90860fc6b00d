/**
 * Turns a batch of validation events into the bucket increments of the abuse windows, summed in
 * memory first so that the Lua script does work per subject and value, not per event.
 *
 * Windows overlap: a rule's window is made of consecutive slots (see {@link WINDOW_GEOMETRY}),
 * one bucket hash per slot, and a window starts at every slot. A two-slot window (an hour of two
 * half-hour slots) starts every half hour, so a burst or a sweep no longer than one slot always
 * falls whole into one window, wherever the clock boundaries lie (docs/abuse-detection.md).
 *
 * Buckets (names under the partition's key base; times are the slot start in epoch ms):
 * - `h:<license>:<slot>`  30 minutes: validations `n`, IPs `i:<ip>` (distinct `d`), fingerprints
 *                         `p:<fp>` (a sample: those of the slot's first 200 validations)
 * - `g:<license>:<slot>`  12 hours: validations `n`, per country `c:<CC>` (distinct `cd`), private
 *                         `x:<ip>` (distinct `xp`) and unknown `u:<ip>` (distinct `xu`) addresses;
 *                         NOT_ACTIVATED answers `na` and their machines `q:<fp>` (distinct `qd`)
 * - `s:<license>:<day>`   spoofed requests `n`, hosts `r:<host>`, IPs `i:<ip>`, reasons `o:<reason>`
 * - `m:<network>:<slot>`  5 minutes: misses `n` (`nf` NOT_FOUND, `mk` MALFORMED_KEY), IPs `i:<ip>` (distinct `d`)
 * - `k:<group>:<slot>`    5 minutes, a network group (/16, /32): misses `n` (`nf`, `mk`), networks
 *                         `w:<network>` (distinct `wd`), IPs `i:<ip>` (distinct `d`), user agents
 *                         `a:<agent>` (distinct `ad`)
 *
 * Every field is a pure function of the partition's entries in stream order, however they are
 * cut into batches (the increments are sums; `first`/`last` follow stream order, not time).
 */
import { evaluateDomainSpoofing } from '../abuse/evaluate-domain-spoofing.js';
import { KEY_GUESSING_WINDOW_MS } from '../abuse/detection-thresholds.js';
import type { StreamEntry } from '../abuse/event-batch-processor.js';
import { networkGroupOf, networkOf } from '../abuse/network-of.js';
import type { BucketIncrement } from '../store/redis-abuse-window-store.js';
import type { CountryLookup } from './country-lookup.js';
import type { LicenseFacts } from './license-facts.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The kinds of slot bucket, each named after the first rule it serves. */
export type BucketRule = 'velocity' | 'geo_spread' | 'domain_spoofing' | 'key_guessing' | 'distributed_key_guessing';

/** The rules about a client network (or network group) rather than a license. */
export type NetworkRule = 'key_guessing' | 'distributed_key_guessing';

/** Whether a rule's subject is a network (or network group) rather than a license. */
export function isNetworkRule(rule: WindowRule): rule is NetworkRule {
  return rule === 'key_guessing' || rule === 'distributed_key_guessing';
}

/** The windowed rules: seat sharing reads the geo buckets (one per license and slot serves both). */
export type WindowRule = BucketRule | 'seat_sharing';

/** The rules evaluated on each kind of bucket. */
export const RULES_OF_BUCKET: Readonly<Record<BucketRule, readonly WindowRule[]>> = {
  velocity: ['velocity'],
  geo_spread: ['geo_spread', 'seat_sharing'],
  domain_spoofing: ['domain_spoofing'],
  key_guessing: ['key_guessing'],
  distributed_key_guessing: ['distributed_key_guessing'],
};

/**
 * Slot length and slots per window of each rule. A window of `slots` slots starts at every slot
 * start, so windows overlap by all but one slot.
 */
export const WINDOW_GEOMETRY: Readonly<Record<WindowRule, { readonly slotMs: number; readonly slots: 1 | 2 }>> = {
  velocity: { slotMs: 30 * MINUTE_MS, slots: 2 },
  geo_spread: { slotMs: 12 * HOUR_MS, slots: 2 },
  seat_sharing: { slotMs: 12 * HOUR_MS, slots: 2 },
  // The threshold is one spoofed request: a window cannot split one request.
  domain_spoofing: { slotMs: DAY_MS, slots: 1 },
  key_guessing: { slotMs: KEY_GUESSING_WINDOW_MS / 2, slots: 2 },
  distributed_key_guessing: { slotMs: KEY_GUESSING_WINDOW_MS / 2, slots: 2 },
};

/** Distinct values kept per bucket, by group; docs/abuse-detection.md explains the caps. */
export const DISTINCT_CAPS = { ips: 1000, fingerprints: 200, countries: 300, hosts: 100, networkIps: 256, unseatedMachines: 200, groupNetworks: 256, groupIps: 256, userAgents: 20 } as const;

/** Longest User-Agent kept as evidence; longer ones are cut (the cap bounds a bucket's memory). */
export const USER_AGENT_CHARS = 120;

/**
 * A license's distinct IPs in a velocity slot are counted from its 100th validation of the slot
 * on: below that the slot's IPs are at most 100, and the detector counts them from the fields
 * when a window needs the number (the counter reads 0 below it).
 */
export const COUNT_IPS_FROM_VALIDATIONS = 100;

/** A slot bucket a batch touched: rule, subject, slot start (epoch ms) and bucket name. */
export type WindowSubject =
  | { readonly rule: Exclude<BucketRule, NetworkRule>; readonly licenseId: string; readonly slotStart: number; readonly bucket: string }
  | { readonly rule: NetworkRule; readonly network: string; readonly slotStart: number; readonly bucket: string };

/** The increments of a batch, and for each (same index) the slot it touches and where. */
export interface WindowPlan {
  readonly increments: readonly BucketIncrement[];
  readonly subjects: readonly WindowSubject[];
  /** Per increment: the time of its last event in stream order, and that event's index in the batch. */
  readonly lastEvents: readonly { readonly at: number; readonly index: number }[];
}

/** Fields read back from each kind of bucket (and from its previous slot), in this order. */
export const READ_FIELDS = {
  velocity: ['n', 'd'],
  geo_spread: ['n', 'cd', 'qd'],
  domain_spoofing: ['n'],
  key_guessing: ['n'],
  distributed_key_guessing: ['n', 'wd'],
} as const satisfies Record<BucketRule, readonly string[]>;

/** Lifetimes: a bucket outlives the last window it belongs to by a margin for late entries and evidence reads. */
const TTL_SECONDS = { velocity: 3 * 3600, geo_spread: 2 * 86_400, domain_spoofing: 2 * 86_400, key_guessing: 3600, distributed_key_guessing: 3600 } as const;

/** The bucket name of a rule's slot for a subject (license id or network). */
export function slotBucket(rule: WindowRule, subject: string, slotStart: number): string {
  const prefix = rule === 'velocity' ? 'h' : rule === 'geo_spread' || rule === 'seat_sharing' ? 'g' : rule === 'domain_spoofing' ? 's' : rule === 'key_guessing' ? 'm' : 'k';
  return `${prefix}:${subject}:${slotStart}`;
}

/** The start of the slot holding `at`. */
export function slotStartOf(rule: WindowRule, at: number): number {
  const { slotMs } = WINDOW_GEOMETRY[rule];
  return at - (((at % slotMs) + slotMs) % slotMs);
}

/** A bucket's increment while the batch is summed: its counters and groups become the increment's own (nothing is copied at the end). */
interface Builder {
  readonly bucket: string;
  readonly ttlSeconds: number;
  readonly first: number;
  last: number;
  lastIndex: number;
  readonly counters: Map<string, number>;
  /** Distinct groups in the order first used (a bucket has at most four: found by a scan). */
  readonly groups: DistinctGroupBuilder[];
  readonly read: readonly string[];
  readonly slotMs: number | undefined;
  /** Fingerprint sample runs (velocity), and how many events they hold. */
  sample: { readonly runs: [string, number][]; events: number } | null;
}

interface DistinctGroupBuilder {
  readonly counter: string;
  readonly cap: number;
  readonly countFrom: number;
  readonly increments: Map<string, number>;
}

/**
 * Plans the window updates of `entries`. Events of a license with no facts (deleted since) are
 * still counted; rules then use the default thresholds and no licensed domains.
 */
export function planWindows(entries: readonly StreamEntry[], facts: ReadonlyMap<string, LicenseFacts | null>, countries: CountryLookup): WindowPlan {
  const builders = new Map<string, Builder>();
  const subjects: WindowSubject[] = [];
  const list: Builder[] = [];
  // The current slot builders of each license in the batch, so that bucket names are built once
  // per license and slot, not once per event.
  const licenses = new Map<string, { hourSlot: number; hour: Builder; geoSlot: number; geo: Builder }>();
  const touch = (subject: WindowSubject, at: number, index: number): Builder => {
    let builder = builders.get(subject.bucket);
    if (!builder) {
      const geometry = WINDOW_GEOMETRY[subject.rule];
      builder = {
        bucket: subject.bucket,
        ttlSeconds: TTL_SECONDS[subject.rule],
        first: at,
        last: at,
        lastIndex: index,
        counters: new Map(),
        groups: [],
        read: READ_FIELDS[subject.rule],
        slotMs: geometry.slots === 2 ? geometry.slotMs : undefined,
        sample: null,
      };
      builders.set(subject.bucket, builder);
      subjects.push(subject);
      list.push(builder);
    } else {
      builder.last = at;
      builder.lastIndex = index;
    }
    return builder;
  };
  const velocitySlot = WINDOW_GEOMETRY.velocity.slotMs;
  const geoSlot = WINDOW_GEOMETRY.geo_spread.slotMs;

  for (let index = 0; index < entries.length; index += 1) {
    const event = entries[index]!.event;
    const at = event.at;
    if (event.licenseId === null) {
      const network = networkOf(event.ip);
      const slotStart = slotStartOf('key_guessing', at);
      const misses = touch({ rule: 'key_guessing', network, slotStart, bucket: slotBucket('key_guessing', network, slotStart) }, at, index);
      add(misses.counters, 'n');
      add(misses.counters, event.code === 'MALFORMED_KEY' ? 'mk' : 'nf');
      addDistinct(misses, 'd', DISTINCT_CAPS.networkIps, `i:${event.ip}`);
      // The same miss, counted for the network's group (routed to the same partition).
      const group = networkGroupOf(event.ip);
      const sweep = touch({ rule: 'distributed_key_guessing', network: group, slotStart, bucket: slotBucket('distributed_key_guessing', group, slotStart) }, at, index);
      add(sweep.counters, 'n');
      add(sweep.counters, event.code === 'MALFORMED_KEY' ? 'mk' : 'nf');
      addDistinct(sweep, 'wd', DISTINCT_CAPS.groupNetworks, `w:${network}`);
      addDistinct(sweep, 'd', DISTINCT_CAPS.groupIps, `i:${event.ip}`);
      addDistinct(sweep, 'ad', DISTINCT_CAPS.userAgents, `a:${event.userAgent === null || event.userAgent === '' ? '-' : event.userAgent.slice(0, USER_AGENT_CHARS)}`);
      continue;
    }
    const licenseId = event.licenseId;
    const hourSlot = at - (at % velocitySlot);
    const daySlot = at - (at % geoSlot);
    let license = licenses.get(licenseId);
    if (license === undefined || license.hourSlot !== hourSlot || license.geoSlot !== daySlot) {
      const hour = touch({ rule: 'velocity', licenseId, slotStart: hourSlot, bucket: slotBucket('velocity', licenseId, hourSlot) }, at, index);
      const geo = touch({ rule: 'geo_spread', licenseId, slotStart: daySlot, bucket: slotBucket('geo_spread', licenseId, daySlot) }, at, index);
      license = { hourSlot, hour, geoSlot: daySlot, geo };
      licenses.set(licenseId, license);
    } else {
      license.hour.last = at;
      license.hour.lastIndex = index;
      license.geo.last = at;
      license.geo.lastIndex = index;
    }
    const hour = license.hour;
    add(hour.counters, 'n');
    addDistinct(hour, 'd', DISTINCT_CAPS.ips, `i:${event.ip}`, COUNT_IPS_FROM_VALIDATIONS);
    addSample(hour, event.fingerprint === null ? '' : `p:${event.fingerprint}`);

    const location = countries.locate(event.ip);
    const geo = license.geo;
    add(geo.counters, 'n');
    if (location.kind === 'country') addDistinct(geo, 'cd', DISTINCT_CAPS.countries, `c:${location.country}`);
    else if (location.kind === 'private') addDistinct(geo, 'xp', DISTINCT_CAPS.countries, `x:${event.ip}`);
    else addDistinct(geo, 'xu', DISTINCT_CAPS.countries, `u:${event.ip}`);
    if (event.code === 'NOT_ACTIVATED') {
      add(geo.counters, 'na');
      if (event.fingerprint !== null) addDistinct(geo, 'qd', DISTINCT_CAPS.unseatedMachines, `q:${event.fingerprint}`);
    }

    if (event.origin === null && event.referer === null) continue;
    const verdict = evaluateDomainSpoofing(event, facts.get(licenseId)?.licensedDomains ?? null);
    if (!verdict.spoofed) continue;
    const dayStart = slotStartOf('domain_spoofing', at);
    const spoof = touch({ rule: 'domain_spoofing', licenseId, slotStart: dayStart, bucket: slotBucket('domain_spoofing', licenseId, dayStart) }, at, index);
    add(spoof.counters, 'n');
    add(spoof.counters, `o:${verdict.reason}`);
    addDistinct(spoof, 'rd', DISTINCT_CAPS.hosts, `r:${verdict.host}`);
    addDistinct(spoof, 'd', DISTINCT_CAPS.ips, `i:${event.ip}`);
  }

  const increments = list.map((builder): BucketIncrement => {
    const { bucket, ttlSeconds, first, last, counters, read, slotMs, sample } = builder;
    const groups: BucketIncrement['groups'] = sample === null ? builder.groups : [...builder.groups, { counter: '', cap: DISTINCT_CAPS.fingerprints, runs: sample.runs }];
    return slotMs === undefined ? { bucket, ttlSeconds, first, last, counters, groups, read } : { bucket, ttlSeconds, first, last, counters, groups, read, slotMs };
  });
  return { increments, subjects, lastEvents: list.map((builder) => ({ at: builder.last, index: builder.lastIndex })) };
}

/** The license id or network a subject is about. */
export function subjectKey(subject: WindowSubject): string {
  return 'network' in subject ? subject.network : subject.licenseId;
}

function add(counters: Map<string, number>, field: string): void {
  counters.set(field, (counters.get(field) ?? 0) + 1);
}

function addDistinct(builder: Builder, counter: string, cap: number, field: string, countFrom = 0): void {
  let group: DistinctGroupBuilder | undefined;
  for (const candidate of builder.groups) {
    if (candidate.counter === counter) {
      group = candidate;
      break;
    }
  }
  if (group === undefined) {
    group = { counter, cap, countFrom, increments: new Map() };
    builder.groups.push(group);
  }
  add(group.increments, field);
}

/** Appends one event to the sample runs; a batch never needs more than the sample's size. */
function addSample(builder: Builder, field: string): void {
  const sample = (builder.sample ??= { runs: [], events: 0 });
  if (sample.events >= DISTINCT_CAPS.fingerprints) return;
  sample.events += 1;
  const run = sample.runs.at(-1);
  if (run !== undefined && run[0] === field) run[1] += 1;
  else sample.runs.push([field, 1]);
}
