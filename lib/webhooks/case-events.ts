/**
 * The webhook events of an abuse case change: opened (new, or reopened after a dismissal),
 * escalated (the score crossed one of {@link CASE_ESCALATION_SCORES} upwards) and decided (a
 * decision was recorded). Pure: the case store calls it on the case before and after its write
 * and records the events in that same write.
 */
import type { AbuseCase } from '../abuse/abuse-case.js';
import { summarizeCase } from '../abuse/case-summary.js';
import { webhookEventId, type WebhookEvent, type WebhookEventType } from './webhook-event.js';

/** Scores whose upward crossing is a `case.escalated` event: worth a look, then urgent. */
export const CASE_ESCALATION_SCORES = [50, 80] as const;

/** The events of the change from `before` (null: the case is new) to `after`. */
export function caseWebhookEvents(before: AbuseCase | null, after: AbuseCase): WebhookEvent[] {
  const types: WebhookEventType[] = [];
  if (after.status === 'open' && before?.status !== 'open') types.push('case.opened');
  const previousScore = before?.score ?? 0;
  const crossed = CASE_ESCALATION_SCORES.filter((score) => previousScore < score && after.score >= score);
  if (crossed.length > 0) types.push('case.escalated');
  if (after.decisions.length > (before?.decisions.length ?? 0)) types.push('case.decided');
  const data = { case: summarizeCase(after), ...(crossed.length > 0 ? { crossedScore: Math.max(...crossed) } : {}) };
  return types.map((type) => ({ id: webhookEventId(after.id, after.version, type), type, occurredAt: after.updatedAt, data }));
}
