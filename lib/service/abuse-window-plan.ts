/**
 * Turns a batch of validation events into the bucket increments of the abuse windows, summed in
 * memory first so that the Lua script does work per subject and value, not per event.
 *
 * Buckets (names under the partition's key base; times are the bucket start in epoch ms):
 * - `h:<license>:<hour>`  validations `n`, IPs `i:<ip>` (distinct `d`), fingerprints `p:<fp>` (a sample:
 *                         those of the hour's first 200 validations)
 * - `g:<license>:<day>`   countries `c:<CC>` (distinct `cd`), private `x:<ip>` (distinct `xp`) and
 *                         unknown `u:<ip>` (distinct `xu`) addresses; each written once per day: a
 *                         license's day bucket is touched only by a location new to it
 * - `s:<license>:<day>`   spoofed requests `n`, hosts `r:<host>`, IPs `i:<ip>`, reasons `o:<reason>`
 * - `m:<network>:<10min>` misses `n` (`nf` NOT_FOUND, `mk` MALFORMED_KEY), IPs `i:<ip>` (distinct `d`)
 */
import { evaluateDomainSpoofing } from '../abuse/evaluate-domain-spoofing.js';
import { KEY_GUESSING_WINDOW_MS } from '../abuse/detection-thresholds.js';
import type { StreamEntry } from '../abuse/event-batch-processor.js';
import { networkOf } from '../abuse/network-of.js';
import type { BucketIncrement } from '../store/redis-abuse-window-store.js';
import type { CountryLookup } from './country-lookup.js';
import type { LicenseFacts } from './license-facts.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Distinct values kept per bucket, by group; docs/abuse-detection.md explains the caps. */
export const DISTINCT_CAPS = { ips: 1000, fingerprints: 200, countries: 300, hosts: 100, networkIps: 256 } as const;

/**
 * A license's distinct IPs in an hour are counted from its 100th validation of the hour on:
 * velocity needs the number only above `validationsPerHour`, so thresholds below 100 are not
 * supported (the count reads 0 below it).
 */
export const COUNT_IPS_FROM_VALIDATIONS = 100;

/** What a bucket is evaluated for; `bucket` names it, `windowStart` is its start in epoch ms. */
export type WindowSubject =
  | { readonly rule: 'velocity'; readonly licenseId: string; readonly windowStart: number; readonly bucket: string }
  | { readonly rule: 'geo_spread'; readonly licenseId: string; readonly windowStart: number; readonly bucket: string }
  | { readonly rule: 'domain_spoofing'; readonly licenseId: string; readonly windowStart: number; readonly bucket: string }
  | { readonly rule: 'key_guessing'; readonly network: string; readonly windowStart: number; readonly bucket: string };

/** The increments of a batch, and for each (same index) what it is evaluated for. */
export interface WindowPlan {
  readonly increments: readonly BucketIncrement[];
  readonly subjects: readonly WindowSubject[];
  /** Locations recorded by this plan (keys `<partition>|<geo bucket>|<field>`), to add to `knownLocations` once the batch is stored. */
  readonly newLocations: readonly string[];
}

/** Locations (license, day, country or address) already recorded; a cache, so it may forget. */
export interface KnownLocations {
  has(key: string): boolean;
}

/** Fields read back from each kind of bucket, in this order. */
export const READ_FIELDS = {
  velocity: ['n', 'd'],
  geo_spread: ['cd'],
  domain_spoofing: ['n'],
  key_guessing: ['n'],
} as const;

/** Lifetimes: a bucket outlives its window by a margin for late entries and evidence reads. */
const TTL_SECONDS = { velocity: 3 * 3600, geo_spread: 2 * 86_400, domain_spoofing: 2 * 86_400, key_guessing: 3600 } as const;

interface Builder {
  readonly bucket: string;
  first: number;
  last: number;
  readonly counters: Map<string, number>;
  readonly groups: Map<string, { cap: number; countFrom: number; increments: Map<string, number> }>;
}

/**
 * Plans the window updates of `entries`. Events of a license with no facts (deleted since) are
 * still counted; rules then use the default thresholds and no licensed domains.
 */
export function planWindows(
  entries: readonly StreamEntry[],
  facts: ReadonlyMap<string, LicenseFacts | null>,
  countries: CountryLookup,
  knownLocations: KnownLocations,
  partition: number,
): WindowPlan {
  const builders = new Map<string, Builder>();
  // The current hour's builder and the day's location-key prefix of each license in the batch,
  // so that bucket names are built once per license and not once per event.
  const licenses = new Map<string, { hourStart: number; hour: Builder; dayStart: number; knownPrefix: string }>();
  const newLocations = new Set<string>();
  const subjects: WindowSubject[] = [];
  const touch = (subject: WindowSubject, at: number): Builder => {
    let builder = builders.get(subject.bucket);
    if (!builder) {
      builder = { bucket: subject.bucket, first: at, last: at, counters: new Map(), groups: new Map() };
      builders.set(subject.bucket, builder);
      subjects.push(subject);
    } else {
      if (at < builder.first) builder.first = at;
      if (at > builder.last) builder.last = at;
    }
    return builder;
  };

  for (const { event } of entries) {
    const at = event.at;
    if (event.licenseId === null) {
      const network = networkOf(event.ip);
      const windowStart = at - (at % KEY_GUESSING_WINDOW_MS);
      const misses = touch({ rule: 'key_guessing', network, windowStart, bucket: `m:${network}:${windowStart}` }, at);
      add(misses.counters, 'n');
      add(misses.counters, event.code === 'MALFORMED_KEY' ? 'mk' : 'nf');
      addDistinct(misses, 'd', DISTINCT_CAPS.networkIps, `i:${event.ip}`);
      continue;
    }
    const licenseId = event.licenseId;
    const hourStart = at - (at % HOUR_MS);
    const dayStart = at - (at % DAY_MS);
    let license = licenses.get(licenseId);
    if (license === undefined || license.hourStart !== hourStart || license.dayStart !== dayStart) {
      const hourBuilder = touch({ rule: 'velocity', licenseId, windowStart: hourStart, bucket: `h:${licenseId}:${hourStart}` }, at);
      license = { hourStart, hour: hourBuilder, dayStart, knownPrefix: `${partition}|g:${licenseId}:${dayStart}|` };
      licenses.set(licenseId, license);
    } else {
      if (at < license.hour.first) license.hour.first = at;
      if (at > license.hour.last) license.hour.last = at;
    }
    const hour = license.hour;
    add(hour.counters, 'n');
    addDistinct(hour, 'd', DISTINCT_CAPS.ips, `i:${event.ip}`, COUNT_IPS_FROM_VALIDATIONS);
    if (event.fingerprint !== null) addDistinct(hour, '', DISTINCT_CAPS.fingerprints, `p:${event.fingerprint}`);

    const location = countries.locate(event.ip);
    const field = location.kind === 'country' ? `c:${location.country}` : `${location.kind === 'private' ? 'x' : 'u'}:${event.ip}`;
    const known = license.knownPrefix + field;
    if (!knownLocations.has(known) && !newLocations.has(known)) {
      newLocations.add(known);
      const geo = touch({ rule: 'geo_spread', licenseId, windowStart: dayStart, bucket: `g:${licenseId}:${dayStart}` }, at);
      const counter = location.kind === 'country' ? 'cd' : location.kind === 'private' ? 'xp' : 'xu';
      addDistinct(geo, counter, DISTINCT_CAPS.countries, field);
    }

    if (event.origin === null && event.referer === null) continue;
    const verdict = evaluateDomainSpoofing(event, facts.get(licenseId)?.licensedDomains ?? null);
    if (!verdict.spoofed) continue;
    const spoof = touch({ rule: 'domain_spoofing', licenseId, windowStart: dayStart, bucket: `s:${licenseId}:${dayStart}` }, at);
    add(spoof.counters, 'n');
    add(spoof.counters, `o:${verdict.reason}`);
    addDistinct(spoof, 'rd', DISTINCT_CAPS.hosts, `r:${verdict.host}`);
    addDistinct(spoof, 'd', DISTINCT_CAPS.ips, `i:${event.ip}`);
  }

  const increments = subjects.map((subject): BucketIncrement => {
    const builder = builders.get(subject.bucket)!;
    return {
      bucket: builder.bucket,
      ttlSeconds: TTL_SECONDS[subject.rule],
      first: builder.first,
      last: builder.last,
      counters: builder.counters,
      groups: [...builder.groups].map(([counter, group]) => ({ counter, cap: group.cap, countFrom: group.countFrom, increments: group.increments })),
      read: READ_FIELDS[subject.rule],
    };
  });
  return { increments, subjects, newLocations: [...newLocations] };
}

function add(counters: Map<string, number>, field: string): void {
  counters.set(field, (counters.get(field) ?? 0) + 1);
}

function addDistinct(builder: Builder, counter: string, cap: number, field: string, countFrom = 0): void {
  let group = builder.groups.get(counter);
  if (!group) {
    group = { cap, countFrom, increments: new Map() };
    builder.groups.set(counter, group);
  }
  add(group.increments, field);
}
