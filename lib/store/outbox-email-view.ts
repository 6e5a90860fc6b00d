/**
 * How an outbox e-mail is shown outside the store (admin API, CLI). Fields are listed one by
 * one, so a field added to the stored document stays hidden until chosen. There is no key to
 * hide: the outbox never holds one.
 */
import type { OutboxDocument } from './mongo-email-outbox.js';

/** An outbox e-mail as shown to operators. */
export interface OutboxEmailView {
  readonly id: string;
  readonly kind: OutboxDocument['kind'];
  readonly to: string;
  readonly licenseId: string;
  readonly customerId: string | null;
  readonly status: OutboxDocument['status'];
  readonly attempts: number;
  readonly createdAt: Date;
  /** When the sender tries next; `null` once sent or failed. */
  readonly nextAttemptAt: Date | null;
  readonly sentAt: Date | null;
  readonly failedAt: Date | null;
  readonly lastError: string | null;
  readonly data: OutboxDocument['data'];
}

/** The view of a stored outbox e-mail. */
export function outboxEmailView(email: OutboxDocument): OutboxEmailView {
  return {
    id: email._id,
    kind: email.kind,
    to: email.to,
    licenseId: email.licenseId,
    customerId: email.customerId,
    status: email.status,
    attempts: email.attempts,
    createdAt: email.createdAt,
    nextAttemptAt: email.status === 'pending' ? email.nextAttemptAt : null,
    sentAt: email.sentAt,
    failedAt: email.failedAt ?? null,
    lastError: email.lastError,
    data: email.data,
  };
}
