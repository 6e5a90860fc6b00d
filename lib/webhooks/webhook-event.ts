/**
 * Outbound webhook events: the closed list of types, the shape every event has, and the
 * deterministic event id. Pure: the stores build events in the same write as the change they
 * describe (docs/webhooks.md), the worker delivers them.
 */
import { createHash } from 'node:crypto';

/** Every event type Keyward sends. */
export const WEBHOOK_EVENT_TYPES = [
  'license.created',
  'license.activated',
  'license.deactivated',
  'license.renewed',
  'license.plan_changed',
  'license.plan_change_scheduled',
  'license.suspended',
  'license.reinstated',
  'license.cancelled',
  'license.resumed',
  'license.expired',
  'license.revoked',
  'case.opened',
  'case.escalated',
  'case.decided',
  'email.failed',
  'stripe_event.failed',
] as const;

/** One event type, e.g. `license.revoked`. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Whether a string is a known event type. */
export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** An event, as recorded with the change it describes and as delivered. */
export interface WebhookEvent {
  /** `evt_` + 24 hex characters, derived from what the event describes: a repeated record keeps its id. */
  readonly id: string;
  readonly type: WebhookEventType;
  /** When the change happened. */
  readonly occurredAt: Date;
  /** The resource as the admin API shows it (masked key, never the key). */
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * The id of the event of `type` about `subject` at `revision` (a license id and its version, a
 * case id and its decision count, …). The same change always gets the same id, so recording
 * it twice (a retried write, a relay that ran twice) yields one event, and receivers can
 * deduplicate on it.
 */
export function webhookEventId(subject: string, revision: string | number, type: WebhookEventType): string {
  const digest = createHash('sha256').update(`${subject}\u0000${String(revision)}\u0000${type}`).digest('hex');
  return `evt_${digest.slice(0, 24)}`;
}

/** Whether an endpoint that asked for `types` (`null`: every type) wants an event of `type`. */
export function endpointWants(types: readonly WebhookEventType[] | null, type: WebhookEventType): boolean {
  return types === null || types.includes(type);
}

/**
 * The JSON body of a delivery, in the Standard Webhooks payload shape (`type`, `timestamp`,
 * `data`) plus the event id. Dates in `data` become ISO strings.
 */
export function webhookPayload(event: WebhookEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, timestamp: event.occurredAt.toISOString(), data: event.data });
}
