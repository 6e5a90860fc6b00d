/**
 * Trial cycling, the I/O around the pure rule: stores trial registrations and what trial
 * licenses' validations show (device fingerprints, IPs), keeps the network census (which
 * customers' licenses validate from which network), finds earlier trials sharing an attribute,
 * and turns a flagged verdict into a signal.
 *
 * Every evaluation of a trial also re-evaluates the later trials linked to it, so the verdicts
 * do not depend on the order in which trials were registered: a trial registered late (the
 * Stripe hook after the license service, a backfill) still counts for the trials after it.
 */
import { LRUCache } from 'lru-cache';

import type { AbuseSignal } from '../abuse/abuse-signal.js';
import { DEFAULT_DETECTION_THRESHOLDS, type DetectionThresholds } from '../abuse/detection-thresholds.js';
import type { StreamEntry } from '../abuse/event-batch-processor.js';
import {
  evaluateTrialCycling,
  SHARED_NETWORK_CUSTOMERS,
  trialNetworkOf,
  type TrialCyclingVerdict,
  type TrialProfile,
} from '../abuse/evaluate-trial-cycling.js';
import { signalIdOf } from '../abuse/signal-id.js';
import { trialCustomerOf, type TrialRegistration, type TrialSighting } from '../abuse/trial-registration.js';
import type { MongoTrialRegistrationStore, NetworkCustomerSighting } from '../store/mongo-trial-registration-store.js';
import type { LicenseFacts } from './license-facts.js';

const DAY_MS = 86_400_000;

/** Options for {@link TrialCyclingWatch}. */
export interface TrialCyclingWatchOptions {
  readonly registrations: MongoTrialRegistrationStore;
  /** Thresholds (`linkedTrials`, `ipLinkedTrials`). Default DEFAULT_DETECTION_THRESHOLDS. */
  readonly thresholds?: DetectionThresholds;
  /** Unrelated customers on a network that halve its links' weight. Default 5 (SHARED_NETWORK_CUSTOMERS). */
  readonly sharedNetworkCustomers?: number;
  /** How far back the network census counts a customer, in ms. Default 30 days. */
  readonly censusWindowMs?: number;
  /** Most fingerprints plus IPs recorded per trial license from its validations. Default 50. */
  readonly maxSightingsPerTrial?: number;
  /** Most later linked trials re-evaluated after one trial's evaluation. Default 50. */
  readonly maxReevaluations?: number;
  /**
   * Which of these licenses exist. With it, {@link TrialCyclingWatch.evaluatePending} raises no
   * signal about a license that does not exist: the license service records a trial before it
   * writes the license, so a failed write leaves a registration without a license, which is
   * deleted once `orphanAfterMs` old. Default: every license is taken to exist.
   */
  readonly licenseExists?: (licenseIds: readonly string[]) => Promise<ReadonlySet<string>>;
  /** Age of a pending registration without a license after which it is deleted, in ms. Default 600,000. */
  readonly orphanAfterMs?: number;
  /**
   * Most census pairs written per second, in the background. Default 500: real traffic
   * repeats its (network, customer) pairs day after day, so a flood of new pairs is a burst
   * or a benchmark, and the census may lag it rather than slow the detector down.
   */
  readonly censusWritesPerSecond?: number;
  /** Called when a background census write fails (its pairs are offered again by later validations). Default: none. */
  readonly onError?: (error: unknown) => void;
}

/** Census pairs waiting for the background writer, at most (more are not even looked at until it catches up). */
const MAX_QUEUED_CENSUS = 10_000;
/** Census pairs per background write. */
const CENSUS_WRITE_BATCH = 200;

/** Sightings of a batch, to store, then to mark as known once everything is stored. */
export interface PendingSightings {
  readonly sightings: readonly TrialSighting[];
  /** New (network, customer) pairs of the batch by `<ip>\0<license>`, for the census (written in the background by {@link TrialCyclingWatch.observe}). */
  readonly census: ReadonlyMap<string, NetworkCustomerSighting>;
  /** Remembers the sightings so later batches do not write them again. */
  commit(): void;
}

/** The trials a sweep evaluated: their signals, and the pending marks to clear once those are stored. */
export interface PendingEvaluation {
  readonly evaluated: number;
  readonly signals: readonly AbuseSignal[];
  /** Clears the marks (a trial marked again meanwhile stays pending); returns how many trials left the queue. */
  clear(): Promise<number>;
}

/** Trial registrations, sightings and the census, and the trial-cycling signals they lead to. */
export class TrialCyclingWatch {
  readonly #store: MongoTrialRegistrationStore;
  readonly #thresholds: DetectionThresholds;
  readonly #shared: number;
  readonly #censusWindowMs: number;
  readonly #maxSightings: number;
  readonly #maxReevaluations: number;
  readonly #licenseExists: TrialCyclingWatchOptions['licenseExists'];
  readonly #orphanAfterMs: number;
  /** `<license>\0<value>` already stored, so a trial validating all day costs one write per new value. */
  readonly #known = new LRUCache<string, true>({ max: 200_000 });
  readonly #perTrial = new LRUCache<string, number>({ max: 50_000 });
  /**
   * `<ip>\0<license>` → the UTC day it was last written to the census (or queued): one write per
   * pair per day and process, and a repeat costs one lookup, before any address is parsed.
   */
  readonly #censused = new LRUCache<string, number>({ max: 500_000 });
  /** Census pairs queued for the background writer, by `<ip>\0<license>`. */
  readonly #censusQueue = new Map<string, NetworkCustomerSighting>();
  /** The background census write in flight (including its pause), or null. */
  #censusWrite: Promise<void> | null = null;
  readonly #censusRate: number;
  readonly #onError: (error: unknown) => void;

  constructor(options: TrialCyclingWatchOptions) {
    this.#store = options.registrations;
    this.#thresholds = options.thresholds ?? DEFAULT_DETECTION_THRESHOLDS;
    this.#shared = options.sharedNetworkCustomers ?? SHARED_NETWORK_CUSTOMERS;
    this.#censusWindowMs = options.censusWindowMs ?? 30 * DAY_MS;
    this.#maxSightings = options.maxSightingsPerTrial ?? 50;
    this.#maxReevaluations = options.maxReevaluations ?? 50;
    this.#licenseExists = options.licenseExists;
    this.#orphanAfterMs = options.orphanAfterMs ?? 600_000;
    this.#censusRate = options.censusWritesPerSecond ?? 500;
    this.#onError = options.onError ?? (() => undefined);
    if (!(this.#censusRate > 0)) throw new Error(`censusWritesPerSecond must be positive, got ${this.#censusRate}`);
    if (!(this.#shared > 0)) throw new Error(`sharedNetworkCustomers must be positive, got ${this.#shared}`);
    if (!(this.#censusWindowMs > 0)) throw new Error(`censusWindowMs must be positive, got ${this.#censusWindowMs}`);
  }

  /** Stores a registration (idempotent) and evaluates it and the later trials linked to it. */
  async register(registration: TrialRegistration, now: Date): Promise<AbuseSignal[]> {
    const profile = await this.#store.registerOne(registration);
    return this.#evaluateWithLater([profile], now);
  }

  /** The new fingerprints and IPs of trial licenses, and the new census pairs, in a batch (nothing stored yet). */
  collect(entries: readonly StreamEntry[], facts: ReadonlyMap<string, LicenseFacts | null>): PendingSightings {
    const byLicense = new Map<string, { facts: LicenseFacts; devices: Set<string>; ips: Set<string> }>();
    const marks: string[] = [];
    const counts = new Map<string, number>();
    const census = new Map<string, NetworkCustomerSighting>();
    for (const { event } of entries) {
      if (event.licenseId === null) continue;
      const license = facts.get(event.licenseId);
      if (!license) continue;
      // A flood of new pairs fills the queue: then the census is not even looked at, so it costs the batch nothing.
      if (this.#censusQueue.size + census.size < MAX_QUEUED_CENSUS) this.#census(census, license, event.ip, event.at);
      if (license.trialStartedAt === null) continue;
      for (const [kind, value] of [['device', event.fingerprint], ['ip', event.ip]] as const) {
        if (value === null) continue;
        const mark = `${license.licenseId}\u0000${kind}\u0000${value}`;
        if (this.#known.has(mark)) continue;
        const used = counts.get(license.licenseId) ?? this.#perTrial.get(license.licenseId) ?? 0;
        if (used >= this.#maxSightings) continue;
        let sighting = byLicense.get(license.licenseId);
        if (!sighting) {
          sighting = { facts: license, devices: new Set(), ips: new Set() };
          byLicense.set(license.licenseId, sighting);
        }
        const target = kind === 'device' ? sighting.devices : sighting.ips;
        if (target.has(value)) continue;
        target.add(value);
        counts.set(license.licenseId, used + 1);
        marks.push(mark);
      }
    }
    const sightings = [...byLicense.values()].map(({ facts: license, devices, ips }) => ({
      licenseId: license.licenseId,
      customerId: trialCustomerOf(license.licenseId, license.customerId),
      startedAt: license.trialStartedAt!,
      deviceFingerprints: [...devices],
      ips: [...ips],
    }));
    return {
      sightings,
      census,
      commit: () => {
        for (const mark of marks) this.#known.set(mark, true);
        for (const [licenseId, used] of counts) this.#perTrial.set(licenseId, used);
      },
    };
  }

  /**
   * Queues the census pairs for the background writer, stores the sightings and evaluates the
   * trials sighted; returns the flagged ones' signals.
   */
  async observe(pending: PendingSightings, now: Date): Promise<AbuseSignal[]> {
    this.#queueCensus(pending.census);
    if (pending.sightings.length === 0) return [];
    await this.#store.addSightings(pending.sightings);
    const profiles = await this.#store.getMany(pending.sightings.map((sighting) => sighting.licenseId));
    return this.#evaluateWithLater(profiles, now);
  }

  /**
   * Evaluates up to `limit` trials that processes without a trial watch registered (server,
   * CLI, embedding backends), and the later trials linked to them. Store the signals, then call
   * `clear`.
   */
  async evaluatePending(now: Date, limit = 100): Promise<PendingEvaluation> {
    const pending = await this.#store.findPending(limit);
    const exists = this.#licenseExists ?? (async (ids: readonly string[]) => new Set(ids));
    const present = await exists(pending.map(({ profile }) => profile.licenseId));
    const live = pending.filter(({ profile }) => present.has(profile.licenseId));
    // A registration whose license is not there yet may be one whose license is being written: it waits.
    const orphans = pending.filter(({ profile, pendingSince }) => !present.has(profile.licenseId) && now.getTime() - pendingSince.getTime() >= this.#orphanAfterMs);
    const raised = await this.#evaluateWithLater(
      live.map(({ profile }) => profile),
      now,
    );
    const subjects = await exists(raised.map((signal) => (signal.subject.type === 'license' ? signal.subject.licenseId : '')));
    return {
      evaluated: pending.length,
      signals: raised.filter((signal) => signal.subject.type === 'license' && subjects.has(signal.subject.licenseId)),
      clear: async () => {
        for (const { profile, pendingSince } of live) await this.#store.clearPending(profile.licenseId, pendingSince);
        for (const { profile, pendingSince } of orphans) await this.#store.deleteOrphan(profile.licenseId, pendingSince);
        return live.length + orphans.length;
      },
    };
  }

  /** Resolves once every census pair queued so far is written (or its write failed). */
  async flushCensus(): Promise<void> {
    while (this.#censusWrite) await this.#censusWrite;
  }

  /** Deletes census pairs older than the census window (run daily). */
  async pruneCensus(now: Date): Promise<number> {
    return this.#store.deleteCensusBefore(new Date(now.getTime() - this.#censusWindowMs));
  }

  /** The verdict for one stored trial, as the watch judges it now (for tests and the review console). */
  async judge(trial: TrialProfile, now: Date): Promise<TrialCyclingVerdict> {
    const candidates = await this.#store.findCandidates(trial);
    return this.#verdict(trial, candidates, now);
  }

  #census(into: Map<string, NetworkCustomerSighting>, license: LicenseFacts, ip: string, at: number): void {
    const key = `${ip}\u0000${license.licenseId}`;
    const day = Math.floor(at / DAY_MS);
    if (this.#censused.get(key) === day) return;
    const queued = this.#censusQueue.get(key) ?? into.get(key);
    if (queued && Math.floor(queued.seenAt.getTime() / DAY_MS) >= day) return;
    into.set(key, { network: trialNetworkOf(ip), customerId: trialCustomerOf(license.licenseId, license.customerId), seenAt: new Date(at) });
  }

  #queueCensus(pairs: ReadonlyMap<string, NetworkCustomerSighting>): void {
    for (const [key, pair] of pairs) {
      if (this.#censusQueue.size >= MAX_QUEUED_CENSUS) break;
      this.#censusQueue.set(key, pair);
    }
    this.#writeCensus();
  }

  /** Writes queued pairs, one bulk write at a time, paced to `censusWritesPerSecond`; off the batch's path. */
  #writeCensus(): void {
    if (this.#censusWrite || this.#censusQueue.size === 0) return;
    const taken = [...this.#censusQueue.entries()].slice(0, CENSUS_WRITE_BATCH);
    for (const [key] of taken) this.#censusQueue.delete(key);
    this.#censusWrite = this.#store
      .recordCensus(taken.map(([, pair]) => pair))
      .then(
        () => {
          for (const [key, pair] of taken) this.#censused.set(key, Math.floor(pair.seenAt.getTime() / DAY_MS));
        },
        // Not marked: a later validation of the same pair offers it again.
        (error: unknown) => this.#onError(error),
      )
      .then(() => new Promise<void>((resolve) => setTimeout(resolve, (taken.length / this.#censusRate) * 1_000).unref()))
      .finally(() => {
        this.#censusWrite = null;
        this.#writeCensus();
      });
  }

  /** Evaluates `trials`, then the later trials linked to each (once each); one signal per flagged trial. */
  async #evaluateWithLater(trials: readonly TrialProfile[], now: Date): Promise<AbuseSignal[]> {
    const signals = new Map<string, AbuseSignal>();
    const done = new Set<string>();
    const later: TrialProfile[] = [];
    for (const trial of trials) {
      if (done.has(trial.licenseId)) continue;
      done.add(trial.licenseId);
      const candidates = await this.#store.findCandidates(trial);
      const signal = this.#signalOf(trial, candidates, await this.#verdict(trial, candidates, now), now);
      if (signal) signals.set(signal.id, signal);
      later.push(...candidates.filter((candidate) => isLater(candidate, trial)).slice(0, this.#maxReevaluations));
    }
    for (const trial of later) {
      if (done.has(trial.licenseId)) continue;
      done.add(trial.licenseId);
      const candidates = await this.#store.findCandidates(trial);
      const signal = this.#signalOf(trial, candidates, await this.#verdict(trial, candidates, now), now);
      if (signal) signals.set(signal.id, signal);
    }
    return [...signals.values()];
  }

  async #verdict(trial: TrialProfile, candidates: readonly TrialProfile[], now: Date): Promise<TrialCyclingVerdict> {
    const thresholds = { ...this.#thresholds, sharedNetworkCustomers: this.#shared };
    const first = evaluateTrialCycling(trial, candidates, thresholds);
    // The census matters only for customers linked by network alone.
    if (!first.linked.some((customer) => customer.weight !== undefined)) return first;
    const excluded = new Set([trial.customerId, ...candidates.map((candidate) => candidate.customerId)]);
    const since = new Date(now.getTime() - this.#censusWindowMs);
    const unrelated = await this.#store.unrelatedCustomersOn(trial.ips.map(trialNetworkOf), excluded, since);
    return evaluateTrialCycling(trial, candidates, thresholds, unrelated);
  }

  #signalOf(trial: TrialProfile, candidates: readonly TrialProfile[], verdict: TrialCyclingVerdict, now: Date): AbuseSignal | null {
    if (!verdict.flagged) return null;
    const subject = { type: 'license', licenseId: trial.licenseId } as const;
    const earliest = candidates.find((candidate) => candidate.licenseId === verdict.linked[0]?.licenseId)?.startedAt ?? trial.startedAt;
    const counted = (values: readonly string[]) => values.slice(0, 20).map((value) => ({ value, count: 1 }));
    return {
      id: signalIdOf('trial_cycling', subject, trial.startedAt),
      kind: 'trial_cycling',
      subject,
      window: { start: trial.startedAt, end: now.getTime() > trial.startedAt.getTime() ? now : trial.startedAt },
      value: verdict.value,
      threshold: verdict.threshold,
      severity: verdict.severity,
      evidence: {
        linkedCustomers: verdict.linked,
        fingerprints: counted(trial.deviceFingerprints),
        topIps: counted(trial.ips),
        details: { customerId: trial.customerId, cardFingerprint: trial.cardFingerprint, email: trial.emailNormalized },
        firstSeen: earliest,
        lastSeen: trial.startedAt,
      },
      detectedAt: now,
    };
  }
}

function isLater(other: TrialProfile, trial: TrialProfile): boolean {
  const a = other.startedAt.getTime();
  const b = trial.startedAt.getTime();
  return a > b || (a === b && other.licenseId > trial.licenseId);
}
