/** A case as listings show it: without its timeline, with the kinds and count of its signals. */
import type { SignalKind, SignalSubject } from './abuse-signal.js';
import type { AbuseCase, CaseDecision, CaseStatus } from './abuse-case.js';

/** One line of a case listing. */
export interface CaseSummary {
  readonly id: string;
  readonly subject: SignalSubject;
  readonly status: CaseStatus;
  readonly score: number;
  readonly signalCount: number;
  readonly kinds: readonly SignalKind[];
  readonly openedAt: Date;
  readonly lastSignalAt: Date;
  readonly decision: CaseDecision | null;
}

/** The summary of a case. */
export function summarizeCase(found: AbuseCase): CaseSummary {
  return {
    id: found.id,
    subject: found.subject,
    status: found.status,
    score: found.score,
    signalCount: found.timeline.length,
    kinds: [...new Set(found.timeline.map(({ kind }) => kind))].sort(),
    openedAt: found.openedAt,
    lastSignalAt: found.lastSignalAt,
    decision: found.decision,
  };
}

/** The listing cursor after a case: `<score>.<id>`. */
export function caseCursorOf(found: Pick<AbuseCase, 'score' | 'id'>): string {
  return `${found.score}.${found.id}`;
}

/** The position a cursor names, or null when it is not one. */
export function parseCaseCursor(cursor: string): { score: number; id: string } | null {
  const match = /^(\d{1,3})\.(case_[0-9a-z_]{1,80})$/.exec(cursor);
  return match?.[1] && match[2] ? { score: Number(match[1]), id: match[2] } : null;
}
