/**
 * An abuse case: the signals about one subject (a license, or for key guessing a client
 * network), rolled up with a score, a timeline and a review status. Plain data; the pure
 * roll-up (roll-up-signal.ts) and decision rules (decide-case.ts) work on it, the store keeps it.
 */
import type { SignalKind, SignalSubject } from './abuse-signal.js';

/** Review states: `open` awaits review; `dismissed` was judged harmless; `actioned` led to a suspension or revocation. */
export const CASE_STATUSES = ['open', 'dismissed', 'actioned'] as const;

/** One of {@link CASE_STATUSES}. */
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** What a reviewer (or the detector itself) decided. */
export const CASE_ACTIONS = ['dismiss', 'suspend', 'revoke'] as const;

/** One of {@link CASE_ACTIONS}. */
export type CaseAction = (typeof CASE_ACTIONS)[number];

/** One signal on a case's timeline: enough to score and list it; the evidence stays on the signal. */
export interface CaseTimelineEntry {
  readonly signalId: string;
  readonly kind: SignalKind;
  readonly severity: number;
  readonly value: number;
  readonly threshold: number;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly detectedAt: Date;
  /** When the case first saw this signal id. */
  readonly recordedAt: Date;
  /** When the case last saw it (a repeated signal updates the entry, it adds none). */
  readonly updatedAt: Date;
}

/** A recorded decision: who, what, why, when. */
export interface CaseDecision {
  readonly action: CaseAction;
  /** `admin:<token name>`, `cli:<user>` or `abuse-detector`. */
  readonly reviewer: string;
  readonly reason: string;
  readonly at: Date;
}

/** A case as stored. */
export interface AbuseCase {
  /** Deterministic per subject (case-id.ts): `case_<license id>` or `case_net_<hash>`. */
  readonly id: string;
  readonly subject: SignalSubject;
  readonly status: CaseStatus;
  /** Score when the case last changed (score-case.ts); reads recompute it for "now". */
  readonly score: number;
  /** Signals, oldest detection first, at most {@link MAX_TIMELINE_ENTRIES}. */
  readonly timeline: readonly CaseTimelineEntry[];
  /** Latest decision, or null while nobody decided. */
  readonly decision: CaseDecision | null;
  /** Every decision, oldest first. */
  readonly decisions: readonly CaseDecision[];
  /** How often a new signal reopened the case after a dismissal. */
  readonly reopenCount: number;
  readonly openedAt: Date;
  readonly lastSignalAt: Date;
  readonly updatedAt: Date;
  /** Increases with every write; updates are guarded by it. */
  readonly version: number;
}

/** Timeline entries kept per case: older ones drop off (their weight has decayed to nothing by then). */
export const MAX_TIMELINE_ENTRIES = 200;
