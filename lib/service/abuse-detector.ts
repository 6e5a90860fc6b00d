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
import { evaluateVelocity } from '../abuse/evaluate-velocity.js';
import type { TrialRegistration } from '../abuse/trial-registration.js';
import { MongoSignalStore } from '../store/mongo-signal-store.js';
import { MongoTrialRegistrationStore } from '../store/mongo-trial-registration-store.js';
import { RedisAbuseWindowStore, type WindowBatchResult } from '../store/redis-abuse-window-store.js';
import { planWindows, type WindowSubject } from './abuse-window-plan.js';
import { CountryLookup } from './country-lookup.js';
import { LicenseFactsCache, type LicenseLookup, type PlanLookup } from './license-facts.js';
import { TrialCyclingWatch } from './trial-cycling-watch.js';
import { evaluateWindow, evidenceBuckets, slidingVelocity, windowSignal, windowSignalId } from './window-signal.js';
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
   * A stored signal is stored (and reported) again in the same window only when its value grew
   * by this fraction. Default 0.1, so a burst updates its signal a few times, not once a batch.
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
  /** Value of each signal last stored and reported, by id. */
  readonly #stored = new LRUCache<string, number>({ max: 100_000 });
  /** Event ids applied lately, so that an event the sink appended twice counts once. */
  readonly #recent = new RecentEventIds();
  /** Locations already in a license's geo bucket, so that a repeat costs no Redis work. */
  readonly #knownLocations = new LRUCache<string, true>({ max: 500_000 });

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

    const plan = planWindows(fresh, facts, this.#countries, this.#knownLocations, partition);
    let result: WindowBatchResult = await this.windows.apply(partition, first.id, last.id, plan.increments);
    if (result.status === 'partial') {
      // Some entries were applied before a crash: apply the rest, then read every touched window.
      const checkpoint = result.checkpoint;
      const after = (entry: StreamEntry): boolean => compareStreamIds(entry.id, checkpoint) > 0;
      const rest = entries.filter(after);
      const restPlan = planWindows(fresh.filter(after), facts, this.#countries, this.#knownLocations, partition);
      const restResult = await this.windows.apply(partition, rest[0]!.id, last.id, restPlan.increments);
      if (restResult.status === 'partial') throw new Error(`partition ${partition}: checkpoint moved during the batch (two consumers?)`);
      result = await this.windows.apply(partition, first.id, last.id, plan.increments);
      if (result.status !== 'skipped') throw new Error(`partition ${partition}: batch not applied as expected (${result.status})`);
    }
    const values = result.values;
    const now = this.#clock();

    const flagged: { index: number; signalBuckets: string[] }[] = [];
    const thresholdsOf = (subject: WindowSubject) => (subject.rule === 'key_guessing' ? this.#thresholds : (facts.get(subject.licenseId)?.thresholds ?? this.#thresholds));
    const findings = plan.subjects.map((subject, index) => evaluateWindow(subject, values[index]!, thresholdsOf(subject)));
    // A clock hour that is not flagged but holds half the threshold: look at the last hour instead.
    const extraDetails = new Map<number, Record<string, number>>();
    const sliding = plan.subjects.flatMap((subject, index) =>
      subject.rule === 'velocity' && !findings[index]!.flagged && values[index]!.fields[0]! * 2 > thresholdsOf(subject).validationsPerHour ? [index] : [],
    );
    const previous = await this.windows.readFields(partition, sliding.map((index) => previousHourBucket(plan.subjects[index]!)), ['n', 'd']);
    sliding.forEach((index, i) => {
      const subject = plan.subjects[index]!;
      const estimate = slidingVelocity(values[index]!.fields, previous[i]!, subject.windowStart, plan.increments[index]!.last);
      const verdict = evaluateVelocity(estimate, thresholdsOf(subject));
      if (!verdict.flagged) return;
      findings[index] = verdict;
      extraDetails.set(index, { lastHourValidations: estimate.validations, previousHourValidations: previous[i]![0]!, previousHourWeight: Number(estimate.previousHourWeight.toFixed(3)) });
    });
    plan.subjects.forEach((subject, index) => {
      if (findings[index]!.flagged) flagged.push({ index, signalBuckets: evidenceBuckets(subject, plan.increments[index]!.last) });
    });
    const due = flagged.filter(({ index }) => {
      const verdict = findings[index]!;
      const subject = plan.subjects[index]!;
      return verdict.flagged && this.#isDue(windowSignalId(subject), verdict.value);
    });
    const hashes = await this.windows.readBuckets(partition, due.flatMap(({ signalBuckets }) => signalBuckets));
    let offset = 0;
    const signals: AbuseSignal[] = due.map(({ index, signalBuckets }) => {
      const verdict = findings[index]!;
      if (!verdict.flagged) throw new Error('unreachable: only flagged findings are due');
      const own = hashes.slice(offset, offset + signalBuckets.length);
      offset += signalBuckets.length;
      return windowSignal(plan.subjects[index]!, verdict, own, new Date(plan.increments[index]!.last), now, extraDetails.get(index));
    });

    const sightings = this.#trials.collect(entries, facts);
    const trialSignals = await this.#trials.observe(sightings, now);
    await this.#store([...signals, ...trialSignals.filter((signal) => this.#isDue(signal.id, signal.value))]);
    sightings.commit();
    for (const location of plan.newLocations) this.#knownLocations.set(location, true);
  }

  /** Whether a finding with this value should be stored: new, or grown enough since last stored. */
  #isDue(signalId: string, value: number): boolean {
    const previous = this.#stored.get(signalId);
    return previous === undefined || (value > previous && value >= previous * (1 + this.#growth));
  }

  async #store(signals: readonly AbuseSignal[]): Promise<void> {
    if (signals.length === 0) return;
    await this.signals.upsert(signals);
    for (const signal of signals) {
      if (this.#onSignal) await this.#onSignal(signal);
    }
    // Remembered only once reported: a failed onSignal is retried with the batch.
    for (const signal of signals) this.#stored.set(signal.id, signal.value);
  }
}

/** The hour bucket before a velocity subject's. */
function previousHourBucket(subject: WindowSubject): string {
  if (subject.rule !== 'velocity') throw new Error(`not an hour bucket: ${subject.bucket}`);
  return `h:${subject.licenseId}:${subject.windowStart - 3_600_000}`;
}

/** Orders Redis stream entry ids (`<ms>-<seq>`). */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
