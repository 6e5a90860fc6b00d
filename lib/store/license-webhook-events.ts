/**
 * The webhook events of a license write, built by the license store so that they are recorded
 * in the same single-document write as the change they describe (docs/webhooks.md). The data
 * is the license as the admin API shows it (licenseView: masked key, never the key or digest).
 */
import type { AuditEntry } from '../lifecycle/outcome.js';
import { licenseView } from '../service/license-view.js';
import { licenseEventTypesOf } from '../webhooks/license-event-types.js';
import { webhookEventId, type WebhookEvent } from '../webhooks/webhook-event.js';
import type { LicenseRecord } from './license-record.js';

/** The events of the transition that produced `record` (its version is the one after the change). */
export function licenseWebhookEvents(record: LicenseRecord, audit: AuditEntry): WebhookEvent[] {
  const { license } = record;
  const change = { command: audit.command, from: audit.from, to: audit.to, cause: audit.cause, details: audit.details };
  return licenseEventTypesOf(audit).map((type) => ({
    id: webhookEventId(license.id, license.version, type),
    type,
    occurredAt: audit.at,
    data: { license: licenseView(record), change },
  }));
}
