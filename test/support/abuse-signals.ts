/**
 * Abuse signals for tests, built directly (the detector rules live elsewhere): a builder with
 * readable defaults, and a helper that stores a signal in `abuse_signals` and calls the hook,
 * as the rules do.
 */
import type { Db } from 'mongodb';

import type { AbuseSignal, SignalKind, SignalSubject } from '../../lib/abuse/abuse-signal.js';
import { MongoAbuseSignalStore } from '../../lib/store/mongo-abuse-signal-store.js';
import type { WorkerHooks } from '../../worker/worker-hooks.js';

/** What a test may set; everything else has a default. */
export interface SignalSpec {
  readonly kind?: SignalKind;
  /** A license id, or a subject. Default license `lic_test`. */
  readonly licenseId?: string;
  readonly subject?: SignalSubject;
  readonly severity?: number;
  readonly value?: number;
  readonly threshold?: number;
  /** ISO time the window starts. Default `2026-11-01T10:00:00Z`. */
  readonly windowStart?: string;
  /** ISO detection time. Default one hour after the window start. */
  readonly detectedAt?: string;
  readonly evidence?: Partial<AbuseSignal['evidence']>;
}

/** An AbuseSignal with the deterministic id shape `sig_<kind>_<subject>_<window start ms>`. */
export function buildSignal(spec: SignalSpec = {}): AbuseSignal {
  const kind = spec.kind ?? 'velocity';
  const subject: SignalSubject = spec.subject ?? { type: 'license', licenseId: spec.licenseId ?? 'lic_test' };
  const start = new Date(spec.windowStart ?? '2026-11-01T10:00:00Z');
  const end = new Date(start.getTime() + 3_600_000);
  const detectedAt = spec.detectedAt ? new Date(spec.detectedAt) : end;
  const subjectPart = subject.type === 'license' ? subject.licenseId : subject.network;
  return {
    id: `sig_${kind}_${subjectPart}_${start.getTime()}`,
    kind,
    subject,
    window: { start, end },
    value: spec.value ?? 1_500,
    threshold: spec.threshold ?? 1_000,
    severity: spec.severity ?? 40,
    evidence: { topIps: [{ value: '203.0.113.7', count: 900 }], firstSeen: start, lastSeen: end, ...spec.evidence },
    detectedAt,
  };
}

/** Stores the signal as a detector rule would, then calls `hooks.onSignal` (which must be set). */
export async function raiseSignal(db: Db, hooks: WorkerHooks, signal: AbuseSignal): Promise<void> {
  await new MongoAbuseSignalStore({ db }).save(signal);
  if (!hooks.onSignal) throw new Error('hooks.onSignal is not set: is the cases module running?');
  await hooks.onSignal(signal);
}
