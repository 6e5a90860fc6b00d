/**
 * Rolling a signal into its case, as a pure function of the case as read, the signal and `now`.
 * The store writes the result guarded by the version it was computed on, so concurrent calls
 * and repeats converge.
 *
 * Rules:
 * - The first signal about a subject opens its case.
 * - A signal id already on the timeline updates its entry (severity, value, window) and adds none.
 * - A dismissed case reopens when a NEW signal id arrives that was detected at or after the
 *   dismissal: the reviewer has not seen it. A new signal detected before the dismissal (a late
 *   delivery of something older) joins the timeline and leaves the case dismissed.
 * - An actioned case stays actioned (the license is already held or revoked); new signals join
 *   its timeline so the reviewer sees what happened since.
 */
import type { AbuseSignal } from './abuse-signal.js';
import { MAX_TIMELINE_ENTRIES, type AbuseCase, type CaseTimelineEntry } from './abuse-case.js';
import { caseIdOf } from './case-id.js';
import { scoreCase, type ScoreCaseOptions } from './score-case.js';

/** What rolling a signal did. */
export type RollUpChange = 'opened' | 'added' | 'updated' | 'reopened';

/** The case after the signal, and what changed. */
export interface RollUpResult {
  readonly case: AbuseCase;
  readonly change: RollUpChange;
}

function entryOf(signal: AbuseSignal, recordedAt: Date, now: Date): CaseTimelineEntry {
  return {
    signalId: signal.id,
    kind: signal.kind,
    severity: signal.severity,
    value: signal.value,
    threshold: signal.threshold,
    windowStart: signal.window.start,
    windowEnd: signal.window.end,
    detectedAt: signal.detectedAt,
    recordedAt,
    updatedAt: now,
  };
}

const byDetection = (a: CaseTimelineEntry, b: CaseTimelineEntry): number =>
  a.detectedAt.getTime() - b.detectedAt.getTime() || a.signalId.localeCompare(b.signalId);

/**
 * Adds `signal` to `current` (null when the subject has no case yet).
 *
 * @param now - Time of the roll-up: the score is computed for it.
 */
export function rollUpSignal(current: AbuseCase | null, signal: AbuseSignal, now: Date, scoring: ScoreCaseOptions = {}): RollUpResult {
  if (current === null) {
    const timeline = [entryOf(signal, now, now)];
    return {
      change: 'opened',
      case: {
        id: caseIdOf(signal.subject),
        subject: signal.subject,
        status: 'open',
        score: scoreCase(timeline, now, scoring),
        timeline,
        decision: null,
        decisions: [],
        reopenCount: 0,
        openedAt: now,
        lastSignalAt: signal.detectedAt,
        updatedAt: now,
        version: 1,
      },
    };
  }
  const existing = current.timeline.find((entry) => entry.signalId === signal.id);
  const timeline = existing
    ? current.timeline.map((entry) => (entry.signalId === signal.id ? entryOf(signal, entry.recordedAt, now) : entry))
    : [...current.timeline, entryOf(signal, now, now)].sort(byDetection).slice(-MAX_TIMELINE_ENTRIES);
  const reopens =
    !existing && current.status === 'dismissed' && current.decision !== null && signal.detectedAt.getTime() >= current.decision.at.getTime();
  const lastSignalAt = signal.detectedAt.getTime() > current.lastSignalAt.getTime() ? signal.detectedAt : current.lastSignalAt;
  return {
    change: existing ? 'updated' : reopens ? 'reopened' : 'added',
    case: {
      ...current,
      status: reopens ? 'open' : current.status,
      reopenCount: current.reopenCount + (reopens ? 1 : 0),
      score: scoreCase(timeline, now, scoring),
      timeline,
      lastSignalAt,
      updatedAt: now,
      version: current.version + 1,
    },
  };
}
