/**
 * Trial cycling, the I/O around the pure rule: stores trial registrations and what trial
 * licenses' validations show (device fingerprints, IPs), finds earlier trials sharing an
 * attribute, and turns a flagged verdict into a signal.
 */
import { LRUCache } from 'lru-cache';

import type { AbuseSignal } from '../abuse/abuse-signal.js';
import { DEFAULT_DETECTION_THRESHOLDS, type DetectionThresholds } from '../abuse/detection-thresholds.js';
import type { StreamEntry } from '../abuse/event-batch-processor.js';
import { evaluateTrialCycling, type TrialProfile } from '../abuse/evaluate-trial-cycling.js';
import { signalIdOf } from '../abuse/signal-id.js';
import type { TrialRegistration } from '../abuse/trial-registration.js';
import type { MongoTrialRegistrationStore, TrialSighting } from '../store/mongo-trial-registration-store.js';
import type { LicenseFacts } from './license-facts.js';

/** Options for {@link TrialCyclingWatch}. */
export interface TrialCyclingWatchOptions {
  readonly registrations: MongoTrialRegistrationStore;
  /** Thresholds (`linkedTrials`, `ipLinkedTrials`). Default DEFAULT_DETECTION_THRESHOLDS. */
  readonly thresholds?: DetectionThresholds;
  /** Most fingerprints plus IPs recorded per trial license from its validations. Default 50. */
  readonly maxSightingsPerTrial?: number;
}

/** Sightings of a batch, to store, then to mark as known once everything is stored. */
export interface PendingSightings {
  readonly sightings: readonly TrialSighting[];
  /** Remembers the sightings so later batches do not write them again. */
  commit(): void;
}

/** Trial registrations and sightings, and the trial-cycling signals they lead to. */
export class TrialCyclingWatch {
  readonly #store: MongoTrialRegistrationStore;
  readonly #thresholds: DetectionThresholds;
  readonly #maxSightings: number;
  /** `<license>\0<value>` already stored, so a trial validating all day costs one write per new value. */
  readonly #known = new LRUCache<string, true>({ max: 200_000 });
  readonly #perTrial = new LRUCache<string, number>({ max: 50_000 });

  constructor(options: TrialCyclingWatchOptions) {
    this.#store = options.registrations;
    this.#thresholds = options.thresholds ?? DEFAULT_DETECTION_THRESHOLDS;
    this.#maxSightings = options.maxSightingsPerTrial ?? 50;
  }

  /** Stores a registration (idempotent) and evaluates it. */
  async register(registration: TrialRegistration, now: Date): Promise<AbuseSignal | null> {
    const profile = await this.#store.register(registration);
    return this.#evaluate(profile, now);
  }

  /** The new fingerprints and IPs of trial licenses in a batch (nothing stored yet). */
  collect(entries: readonly StreamEntry[], facts: ReadonlyMap<string, LicenseFacts | null>): PendingSightings {
    const byLicense = new Map<string, { facts: LicenseFacts; devices: Set<string>; ips: Set<string> }>();
    const marks: string[] = [];
    const counts = new Map<string, number>();
    for (const { event } of entries) {
      if (event.licenseId === null) continue;
      const license = facts.get(event.licenseId);
      if (!license || license.trialStartedAt === null) continue;
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
      customerId: license.customerId ?? `unknown:${license.licenseId}`,
      startedAt: license.trialStartedAt!,
      deviceFingerprints: [...devices],
      ips: [...ips],
    }));
    return {
      sightings,
      commit: () => {
        for (const mark of marks) this.#known.set(mark, true);
        for (const [licenseId, used] of counts) this.#perTrial.set(licenseId, used);
      },
    };
  }

  /** Stores sightings and evaluates the trials they belong to; returns the flagged ones' signals. */
  async observe(pending: PendingSightings, now: Date): Promise<AbuseSignal[]> {
    if (pending.sightings.length === 0) return [];
    await this.#store.addSightings(pending.sightings);
    const profiles = await this.#store.getMany(pending.sightings.map((sighting) => sighting.licenseId));
    const signals = await Promise.all(profiles.map((profile) => this.#evaluate(profile, now)));
    return signals.filter((signal): signal is AbuseSignal => signal !== null);
  }

  async #evaluate(trial: TrialProfile, now: Date): Promise<AbuseSignal | null> {
    const candidates = await this.#store.findCandidates(trial);
    const verdict = evaluateTrialCycling(trial, candidates, this.#thresholds);
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
