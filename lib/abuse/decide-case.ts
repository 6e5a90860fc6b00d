/**
 * Which decisions a case allows, as a pure function: a refusal is a value with a closed code.
 *
 * - A network case (key guessing from an address range) has no license to act on: it can only
 *   be dismissed.
 * - A case that is already dismissed cannot be dismissed again.
 * - Suspend and revoke are allowed on open, dismissed (a reviewer changing their mind) and
 *   actioned cases (escalating a suspension to a revocation); whether the license allows the
 *   command is the lifecycle's decision, made next.
 * - Dismissing an actioned case records the dismissal; it does not lift a suspension (reinstate
 *   the license for that), so a false positive is undone in two explicit steps.
 */
import type { AbuseCase, CaseAction, CaseDecision } from './abuse-case.js';

/** Codes of a refused decision. */
export type CaseRefusalCode = 'NETWORK_CASE_DISMISS_ONLY' | 'CASE_ALREADY_DISMISSED';

/** Outcome of {@link decideCase}. */
export type CaseDecisionResult =
  | { readonly ok: true; readonly case: AbuseCase }
  | { readonly ok: false; readonly code: CaseRefusalCode; readonly message: string };

/** Whether `action` is allowed on `current` (checked before the license command runs). */
export function checkCaseAction(current: AbuseCase, action: CaseAction): CaseDecisionResult {
  if (current.subject.type === 'network' && action !== 'dismiss') {
    return { ok: false, code: 'NETWORK_CASE_DISMISS_ONLY', message: 'A network case has no license to act on; it can only be dismissed.' };
  }
  if (action === 'dismiss' && current.status === 'dismissed') {
    return { ok: false, code: 'CASE_ALREADY_DISMISSED', message: 'The case is already dismissed.' };
  }
  return { ok: true, case: current };
}

/**
 * Records `decision` on `current`: dismiss → `dismissed`, suspend or revoke → `actioned`.
 * Checks {@link checkCaseAction} first.
 */
export function decideCase(current: AbuseCase, decision: CaseDecision): CaseDecisionResult {
  const allowed = checkCaseAction(current, decision.action);
  if (!allowed.ok) return allowed;
  return {
    ok: true,
    case: {
      ...current,
      status: decision.action === 'dismiss' ? 'dismissed' : 'actioned',
      decision,
      decisions: [...current.decisions, decision],
      updatedAt: decision.at,
      version: current.version + 1,
    },
  };
}
