/**
 * The abuse detector: applies batches of validation events to the sliding windows in Redis
 * (one Lua call per batch, atomic with the partition checkpoint, so a batch delivered twice
 * counts once), evaluates the pure rules on the windows the batch touched, stores the signals in
 * MongoDB by deterministic id, then reports each to `onSignal`. Trial registrations from billing
 * come in through {@link AbuseDetector.registerTrial}.
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Db } from 'mongodb';

import type { AbuseSignal } from '../abuse/abuse-signal.js';
import { DEFAULT_DETECTION_THRESHOLDS, type DetectionThresholds } from '../abuse/detection-thresholds.js';
import type { EventBatchProcessor, StreamEntry } from '../abuse/event-batch-processor.js';
import type { TrialRegistration } from '../abuse/trial-registration.js';
import { MongoSignalStore } from '../store/mongo-signal-store.js';
import { MongoTrialRegistrationStore } from '../store/mongo-trial-registration-store.js';
import { RedisAbuseWindowStore, type BucketValues, type WindowBatchResult } from '../store/redis-abuse-window-store.js';
import { isNetworkRule, planWindows, RULES_OF_BUCKET, slotBucket, slotStartOf, subjectKey, WINDOW_GEOMETRY, type WindowPlan, type WindowRule } from './abuse-window-plan.js';
import { CountryLookup } from './country-lookup.js';
import { LicenseFactsCache, type LicenseFacts, type LicenseLookup, type PlanLookup } from './license-facts.js';
import { TrialCyclingWatch } from './trial-cycling-watch.js';
import { mayFlag, measureWindow, windowBuckets, windowSignal, windowSignalId, type WindowRef } from './window-signal.js';
import { RecentEventIds } from './recent-event-ids.js';

/** Options for {@link AbuseDetector}. */
export interface AbuseDetectorOptions {
  /** Database for `abuse_signals` and `trial_registrations`. Required. */
  readonly db: Db;
  /** Redis for the windows (a command connection; no blocking commands are used). Required. */
  readonly redis: Redis;
  /** License reads (`keyward.licenses`). Required. */
  readonly licenses: LicenseLookup;
  /** Plan reads for per-plan thresholds (`keyward.plans`). Required. */
  readonly plans: PlanLookup;
  /** Redis key prefix, without braces; keys are `<prefix>:abuse:{<partition>}:…`. Default `keyward`. */
  readonly keyPrefix?: string;
  /** Prefix of collection names. Default ``. */
  readonly collectionPrefix?: string;
  /** Called after a signal was stored; must be idempotent per id. A rejection fails the batch. Default: none. */
  readonly onSignal?: (signal: AbuseSignal) => Promise<void>;
  /** Clock for detection times (windows follow event times). Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Base thresholds, overridden per plan. Default DEFAULT_DETECTION_THRESHOLDS. */
  readonly thresholds?: DetectionThresholds;
  /** License facts cache: entries (default 100,000) and TTL in ms (default 60,000). */
  readonly licenseCache?: { readonly maxEntries?: number; readonly ttlMs?: number };
  /**
   * A signal is stored with its current value and evidence every time a batch touches its
   * window; it is reported to `onSignal` (the case roll-up) again only when its value grew by
   * this fraction since last reported. Default 0.1, so a burst re-scores its case a few times,
   * not once a batch, while the stored signal ends exact.
   */
  readonly restoreGrowth?: number;
}

/** {@link EventBatchProcessor} that computes abuse signals. Call {@link AbuseDetector.ensureIndexes} once. */
export class AbuseDetector implements EventBatchProcessor {
  readonly signals: MongoSignalStore;
  readonly registrations: MongoTrialRegistrationStore;
  readonly windows: RedisAbuseWindowStore;
  readonly #facts: LicenseFactsCache;
  readonly #countries = new CountryLookup();
  readonly #trials: TrialCyclingWatch;
  readonly #thresholds: DetectionThresholds;
  readonly #onSignal: AbuseDetectorOptions['onSignal'];
  readonly #clock: () => Date;
  readonly #growth: number;
  /** Value of each signal last reported to `onSignal`, by id. */
  readonly #reported = new LRUCache<string, number>({ max: 100_000 });
  /** Event ids applied lately, so that an event the sink appended twice counts once. */
  readonly #recent = new RecentEventIds();

  constructor(options: AbuseDetectorOptions) {
    const collections = options.collectionPrefix === undefined ? { db: options.db } : { db: options.db, collectionPrefix: options.collectionPrefix };
    this.signals = new MongoSignalStore(collections);
    this.registrations = new MongoTrialRegistrationStore(collections);
    this.windows = new RedisAbuseWindowStore(options.keyPrefix === undefined ? { redis: options.redis } : { redis: options.redis, keyPrefix: options.keyPrefix });
    this.#thresholds = options.thresholds ?? DEFAULT_DETECTION_THRESHOLDS;
    this.#facts = new LicenseFactsCache({ licenses: options.licenses, plans: options.plans, thresholds: this.#thresholds, ...options.licenseCache });
    this.#trials = new TrialCyclingWatch({ registrations: this.registrations, thresholds: this.#thresholds });
    this.#onSignal = options.onSignal;
    this.#clock = options.clock ?? (() => new Date());
    this.#growth = options.restoreGrowth ?? 0.1;
    if (!(this.#growth >= 0)) throw new Error(`restoreGrowth must be a non-negative number, got ${this.#growth}`);
  }

  /** Creates the collections' indexes. */
  async ensureIndexes(): Promise<void> {
    await Promise.all([this.signals.ensureIndexes(), this.registrations.ensureIndexes()]);
  }

  /** For the `onTrialStarted` hook: stores the trial (idempotent) and flags it if it cycles. */
  async registerTrial(registration: TrialRegistration): Promise<void> {
    await this.#store(await this.#trials.register(registration, this.#clock()));
  }

  async process(partition: number, entries: readonly StreamEntry[]): Promise<void> {
    const fresh = this.#recent.fresh(entries);
    await this.#apply(partition, entries, fresh);
    this.#recent.remember(fresh);
  }

  /**
   * Applies a batch: the checkpoint moves over all `entries`, the windows count only `fresh`
   * (the entries whose event the sink did not append twice).
   */
  async #apply(partition: number, entries: readonly StreamEntry[], fresh: readonly StreamEntry[]): Promise<void> {
    const first = entries[0];
    const last = entries.at(-1);
    if (!first || !last) return;
    const licenseIds = new Set<string>();
    for (const { event } of fresh) if (event.licenseId !== null) licenseIds.add(event.licenseId);
    const facts = await this.#facts.getMany(licenseIds);

    const plan = planWindows(fresh, facts, this.#countries);
    let result: WindowBatchResult = await this.windows.apply(partition, first.id, last.id, plan.increments);
    if (result.status === 'partial') {
      // Some entries were applied before a crash: apply the rest, then read every touched window.
      const checkpoint = result.checkpoint;
      const after = (entry: StreamEntry): boolean => compareStreamIds(entry.id, checkpoint) > 0;
      const rest = entries.filter(after);
      const restPlan = planWindows(fresh.filter(after), facts, this.#countries);
      const restResult = await this.windows.apply(partition, rest[0]!.id, last.id, restPlan.increments);
      if (restResult.status === 'partial') throw new Error(`partition ${partition}: checkpoint moved during the batch (two consumers?)`);
      result = await this.windows.apply(partition, first.id, last.id, plan.increments);
      if (result.status !== 'skipped') throw new Error(`partition ${partition}: batch not applied as expected (${result.status})`);
    }
    const signals = await this.#windowSignals(partition, plan, result.values, facts);
    const sightings = this.#trials.collect(entries, facts);
    const trialSignals = await this.#trials.observe(sightings, this.#clock());
    await this.#store([...signals, ...trialSignals.filter((signal) => this.#isDue(signal.id, signal.value))]);
    sightings.commit();
  }

  /**
   * The signals of the windows this batch touched. A two-slot window counts only when its first
   * slot holds events (otherwise it holds nothing the window after it does not), which is a
   * monotone condition, so the windows reported do not depend on batch cuts either: for a
   * touched slot, the window it starts (with the next slot, when one exists) and the window it
   * ends (when the previous slot exists). Windows are screened on the counters the script
   * returned, then measured from the full hashes. A flagged window is stored every time it is
   * touched, so that its value and evidence are those of all its events so far.
   */
  async #windowSignals(partition: number, plan: WindowPlan, values: readonly BucketValues[], facts: ReadonlyMap<string, LicenseFacts | null>): Promise<AbuseSignal[]> {
    const thresholdsOf = (rule: WindowRule, subject: string) => (isNetworkRule(rule) ? this.#thresholds : (facts.get(subject)?.thresholds ?? this.#thresholds));
    const seatsOf = (ref: WindowRef) => (ref.rule === 'seat_sharing' ? (facts.get(ref.subject)?.seats ?? null) : null);
    // Windows by signal id: their slots' counters (earliest first) and their latest event in this batch.
    const windows = new Map<string, { ref: WindowRef; slots: (readonly number[] | null)[]; last: { at: number; index: number } }>();
    const unread: { id: string; bucket: string }[] = [];
    const note = (ref: WindowRef, slot: number, fields: readonly number[] | null, last: { at: number; index: number }) => {
      const id = windowSignalId(ref);
      let window = windows.get(id);
      if (!window) {
        window = { ref, slots: Array.from({ length: WINDOW_GEOMETRY[ref.rule].slots }, () => null), last };
        windows.set(id, window);
      } else if (last.index > window.last.index) window.last = last;
      if (fields !== null) window.slots[slot] = fields;
    };
    const NONE: readonly number[] = [];
    plan.subjects.forEach((subject, index) => {
      const { slotMs, slots } = WINDOW_GEOMETRY[subject.rule];
      const value = values[index]!;
      const last = plan.lastEvents[index]!;
      const licenseFacts = 'network' in subject ? null : facts.get(subject.licenseId);
      const thresholds = licenseFacts?.thresholds ?? this.#thresholds;
      const seats = licenseFacts?.seats ?? null;
      for (const rule of RULES_OF_BUCKET[subject.rule]) {
        if (slots === 1) {
          if (mayFlag(rule, value.fields, NONE, thresholds, seats)) note({ rule, subject: subjectKey(subject), windowStart: subject.slotStart }, 0, value.fields, last);
          continue;
        }
        // Most slots stop here: neither window holding them can be flagged on these counters.
        const previous = value.previous ?? NONE;
        const ends = (previous[0] ?? 0) > 0 && mayFlag(rule, previous, value.fields, thresholds, seats);
        const starts = value.successor === true || mayFlag(rule, value.fields, NONE, thresholds, seats);
        if (!ends && !starts) continue;
        const key = subjectKey(subject);
        if (starts) {
          const ref = { rule, subject: key, windowStart: subject.slotStart };
          note(ref, 0, value.fields, last);
          if (value.successor) unread.push({ id: windowSignalId(ref), bucket: slotBucket(rule, key, subject.slotStart + slotMs) });
          else note(ref, 1, NONE, last);
        }
        if (ends) {
          const ref = { rule, subject: key, windowStart: subject.slotStart - slotMs };
          note(ref, 0, previous, last);
          note(ref, 1, value.fields, last);
        }
      }
    });
    // A late entry in a slot whose next slot exists: read that slot, unless the batch touched it.
    const missing = unread.filter(({ id }) => windows.get(id)!.slots[1] === null);
    const read = await this.windows.readFields(partition, missing.map(({ bucket }) => bucket), ['n', 'd', 'cd', 'qd', 'wd']);
    missing.forEach(({ id }, i) => {
      const window = windows.get(id)!;
      const [n = 0, d = 0, cd = 0, qd = 0, wd = 0] = read[i]!;
      const rule = window.ref.rule;
      window.slots[1] = rule === 'geo_spread' || rule === 'seat_sharing' ? [n, cd, qd] : rule === 'velocity' ? [n, d] : rule === 'distributed_key_guessing' ? [n, wd] : [n];
    });

    const candidates = [...windows.values()].filter(({ ref, slots }) =>
      mayFlag(ref.rule, slots[0] ?? NONE, slots[1] ?? NONE, thresholdsOf(ref.rule, ref.subject), seatsOf(ref)),
    );
    if (candidates.length === 0) return [];
    // A window's latest event in this batch is the latest of every touched slot of it, also of a
    // slot whose own screen did not pass (it may have read a copy that the batch updated later).
    const touched = new Map(plan.subjects.map((subject, index) => [subject.bucket, plan.lastEvents[index]!]));
    for (const window of candidates) {
      for (const bucket of windowBuckets(window.ref)) {
        const last = touched.get(bucket);
        if (last !== undefined && last.index > window.last.index) window.last = last;
      }
    }
    const buckets = candidates.flatMap(({ ref, last }) => [
      ...windowBuckets(ref),
      ...(ref.rule === 'geo_spread' ? [slotBucket('velocity', ref.subject, slotStartOf('velocity', last.at))] : []),
    ]);
    const hashes = await this.windows.readBuckets(partition, buckets);
    const now = this.#clock();
    const signals: AbuseSignal[] = [];
    let offset = 0;
    for (const { ref, last } of candidates) {
      const length = WINDOW_GEOMETRY[ref.rule].slots + (ref.rule === 'geo_spread' ? 1 : 0);
      const own = hashes.slice(offset, offset + WINDOW_GEOMETRY[ref.rule].slots);
      const extra = ref.rule === 'geo_spread' ? hashes[offset + length - 1] : undefined;
      offset += length;
      const measure = measureWindow(ref.rule, own, thresholdsOf(ref.rule, ref.subject), extra, seatsOf(ref));
      if (measure.verdict.flagged) signals.push(windowSignal(ref, measure.verdict, measure, new Date(last.at), now));
    }
    return signals;
  }

  /** Whether a finding with this value should be reported: new, or grown enough since last reported. */
  #isDue(signalId: string, value: number): boolean {
    const previous = this.#reported.get(signalId);
    return previous === undefined || (value > previous && value >= previous * (1 + this.#growth));
  }

  /** Stores every signal (current value and evidence); reports to `onSignal` the new or grown ones. */
  async #store(signals: readonly AbuseSignal[]): Promise<void> {
    if (signals.length === 0) return;
    await this.signals.upsert(signals);
    const due = signals.filter((signal) => this.#isDue(signal.id, signal.value));
    for (const signal of due) {
      if (this.#onSignal) await this.#onSignal(signal);
    }
    // Remembered only once reported: a failed onSignal is retried with the batch.
    for (const signal of due) this.#reported.set(signal.id, signal.value);
  }
}

/** Orders Redis stream entry ids (`<ms>-<seq>`). */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
