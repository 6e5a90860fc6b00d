/**
 * The e-mail outbox in MongoDB (collection `email_outbox`): one document per e-mail, written
 * before anything tries to send it, so a mail server that is down delays mail and never loses
 * it. The id derives from the request's dedupe key, so enqueueing twice is harmless and needs
 * no index beyond `_id`.
 *
 * Sending is claimed with a lease: {@link MongoEmailOutbox.claimDue} moves a due e-mail's
 * `nextAttemptAt` past the lease and stamps a lease id in one atomic findOneAndUpdate, so two
 * senders never hold the same e-mail; every later write is guarded on that lease id. A sender
 * that dies mid-send loses its lease when `nextAttemptAt` passes, and the e-mail is due again.
 */
import { createHash, randomBytes } from 'node:crypto';

import type { Collection, Db, Filter } from 'mongodb';

import type { EmailKind, EmailOutbox, EmailRequest } from '../mail/email-request.js';
import { emailFailedEvent } from '../webhooks/failure-events.js';
import type { WebhookEvent } from '../webhooks/webhook-event.js';
import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';
import type { PendingWebhookEvents } from './mongo-webhook-relay.js';

/** Delivery state of an outbox e-mail. */
export type OutboxStatus = 'pending' | 'sent' | 'failed';

/** Every {@link OutboxStatus}, for filters. */
export const OUTBOX_STATUSES = ['pending', 'sent', 'failed'] as const satisfies readonly OutboxStatus[];

/** An outbox e-mail as stored. */
export interface OutboxDocument extends PendingWebhookEvents {
  /** `eml_` + 24 hex characters of SHA-256 of the dedupe key. */
  _id: string;
  dedupeKey: string;
  kind: EmailKind;
  to: string;
  licenseId: string;
  customerId: string | null;
  data: Readonly<Record<string, string | number | boolean | null>>;
  status: OutboxStatus;
  /** Delivery attempts so far (counted when an attempt is claimed). */
  attempts: number;
  createdAt: Date;
  /** Earliest time the sender may try (next) delivery; while claimed, the end of the lease. */
  nextAttemptAt: Date;
  sentAt: Date | null;
  lastError: string | null;
  /** The current claim's id; `null` (or absent, in documents written before leases) when unclaimed. */
  leaseId?: string | null;
  /** When the last attempt was claimed. */
  lastAttemptAt?: Date | null;
  /** When the e-mail was given up. */
  failedAt?: Date | null;
}

/** An e-mail claimed for one delivery attempt. */
export interface ClaimedEmail {
  readonly email: OutboxDocument;
  /** Guards every write about this attempt. */
  readonly leaseId: string;
}

/** Filters and page of an outbox listing, newest first. */
export interface OutboxQuery {
  readonly status?: OutboxStatus;
  readonly licenseId?: string;
  readonly customerId?: string;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
  /** Page size, 1-500. */
  readonly limit: number;
}

/** A page of e-mails. */
export interface OutboxPage {
  readonly data: OutboxDocument[];
  readonly nextCursor: string | null;
}

/** Options for {@link MongoEmailOutbox}. */
export interface MongoEmailOutboxOptions {
  /** Database to use. Required. */
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `email_outbox`). */
  readonly collectionPrefix?: string;
  /**
   * Called after a new e-mail was stored (not for a repeated dedupe key), e.g. to wake the sender.
   * A failure here is the caller's to log: the e-mail is stored, and the sender's periodic sweep
   * picks it up anyway. Default: nothing.
   */
  readonly onEnqueued?: (id: string) => Promise<void> | void;
}

/** The outbox id of a dedupe key. */
export function outboxIdOf(dedupeKey: string): string {
  return `eml_${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 24)}`;
}

const MAX_ERROR_LENGTH = 500;

/** A listing cursor: creation time and id of the last e-mail of a page. */
function encodeCursor(email: OutboxDocument): string {
  return Buffer.from(`${email.createdAt.getTime()}:${email._id}`).toString('base64url');
}

/** The position a listing cursor names, or `null` when it is not one of ours. */
export function parseOutboxCursor(cursor: string): { createdAt: Date; id: string } | null {
  const [ms, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const time = Number(ms);
  return id !== undefined && /^eml_[0-9a-f]{24}$/.test(id) && Number.isSafeInteger(time) ? { createdAt: new Date(time), id } : null;
}

/** {@link EmailOutbox} on MongoDB, with the sender's claim / settle operations and listings. */
export class MongoEmailOutbox implements EmailOutbox {
  readonly collection: Collection<OutboxDocument>;
  readonly #onEnqueued: MongoEmailOutboxOptions['onEnqueued'];

  constructor(options: MongoEmailOutboxOptions) {
    this.collection = options.db.collection<OutboxDocument>(`${options.collectionPrefix ?? ''}email_outbox`);
    this.#onEnqueued = options.onEnqueued;
  }

  /** Creates the indexes the sender and the listings use (idempotent). */
  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndexes([
        { key: { status: 1, nextAttemptAt: 1 }, name: 'status_1_nextAttemptAt_1' },
        { key: { licenseId: 1, createdAt: -1 }, name: 'licenseId_1_createdAt_-1' },
        { key: { createdAt: -1, _id: -1 }, name: 'createdAt_-1__id_-1' },
      ]);
    } catch (error) {
      throw toDatastoreError('ensureOutboxIndexes', error);
    }
  }

  async enqueue(request: EmailRequest, now: Date): Promise<{ id: string; created: boolean }> {
    const id = outboxIdOf(request.dedupeKey);
    try {
      await this.collection.insertOne({
        _id: id,
        dedupeKey: request.dedupeKey,
        kind: request.kind,
        to: request.to,
        licenseId: request.licenseId,
        customerId: request.customerId,
        data: request.data ?? {},
        status: 'pending',
        attempts: 0,
        createdAt: now,
        nextAttemptAt: now,
        sentAt: null,
        lastError: null,
        leaseId: null,
        lastAttemptAt: null,
        failedAt: null,
      });
    } catch (error) {
      const mapped = toDatastoreError('enqueueEmail', error);
      if (mapped instanceof DuplicateKeyError) return { id, created: false };
      throw mapped;
    }
    await this.#onEnqueued?.(id);
    return { id, created: true };
  }

  /** The stored e-mail with this id, or `null`. */
  async get(id: string): Promise<OutboxDocument | null> {
    try {
      return await this.collection.findOne({ _id: id });
    } catch (error) {
      throw toDatastoreError('getEmail', error);
    }
  }

  /**
   * Claims the pending e-mail that has been due longest, for one attempt: counts the attempt and
   * holds it for `leaseMs` (no other claim can take it meanwhile). `null` when nothing is due.
   */
  async claimDue(now: Date, leaseMs: number): Promise<ClaimedEmail | null> {
    const leaseId = randomBytes(12).toString('hex');
    try {
      const email = await this.collection.findOneAndUpdate(
        { status: 'pending', nextAttemptAt: { $lte: now } },
        { $set: { nextAttemptAt: new Date(now.getTime() + leaseMs), leaseId, lastAttemptAt: now }, $inc: { attempts: 1 } },
        { sort: { nextAttemptAt: 1 }, returnDocument: 'after' },
      );
      return email ? { email, leaseId } : null;
    } catch (error) {
      throw toDatastoreError('claimEmail', error);
    }
  }

  /** Records a delivery. `false` when the lease was lost (another sender holds the e-mail now). */
  async markSent(claim: ClaimedEmail, now: Date): Promise<boolean> {
    return this.#settle(claim, { status: 'sent', sentAt: now, lastError: null }, 'markEmailSent');
  }

  /** Releases the claim after a failed attempt; the e-mail is due again at `nextAttemptAt`. */
  async markRetry(claim: ClaimedEmail, nextAttemptAt: Date, error: string): Promise<boolean> {
    return this.#settle(claim, { nextAttemptAt, lastError: error.slice(0, MAX_ERROR_LENGTH) }, 'markEmailRetry');
  }

  /** Gives the e-mail up: it stays visible with status `failed` and its last error. */
  async markFailed(claim: ClaimedEmail, now: Date, error: string): Promise<boolean> {
    const fields = { status: 'failed' as const, failedAt: now, lastError: error.slice(0, MAX_ERROR_LENGTH) };
    // The `email.failed` webhook event is recorded in the same write (docs/webhooks.md).
    // Fields as outboxEmailView shows them (not imported: it imports this module's types).
    const { email } = claim;
    const view = { id: email._id, kind: email.kind, to: email.to, licenseId: email.licenseId, customerId: email.customerId, status: 'failed', attempts: email.attempts, createdAt: email.createdAt, failedAt: now, lastError: fields.lastError };
    return this.#settle(claim, fields, 'markEmailFailed', [emailFailedEvent(email._id, claim.leaseId, now, view)]);
  }

  /**
   * Puts a `failed` e-mail back in the queue with a fresh count of attempts (after the cause,
   * e.g. the SMTP settings, was fixed). `null` when there is no such failed e-mail.
   */
  async retryFailed(id: string, now: Date): Promise<OutboxDocument | null> {
    try {
      return await this.collection.findOneAndUpdate(
        { _id: id, status: 'failed' },
        { $set: { status: 'pending', attempts: 0, nextAttemptAt: now, failedAt: null, leaseId: null } },
        { returnDocument: 'after' },
      );
    } catch (error) {
      throw toDatastoreError('retryEmail', error);
    }
  }

  /**
   * Deletes e-mails sent before `before` (retention: no TTL indexes, so a scheduled job calls
   * this). Failed e-mails stay until an operator retries them. Returns how many were deleted.
   */
  async pruneSent(before: Date): Promise<number> {
    try {
      return (await this.collection.deleteMany({ status: 'sent', sentAt: { $lt: before } })).deletedCount;
    } catch (error) {
      throw toDatastoreError('pruneEmails', error);
    }
  }

  /** A page of e-mails, newest first, filtered by status, license or customer. */
  async list(query: OutboxQuery): Promise<OutboxPage> {
    const after = query.cursor === undefined ? null : parseOutboxCursor(query.cursor);
    const filter: Filter<OutboxDocument> = {
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.licenseId === undefined ? {} : { licenseId: query.licenseId }),
      ...(query.customerId === undefined ? {} : { customerId: query.customerId }),
      ...(after === null
        ? {}
        : { $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }] }),
    };
    try {
      // One more than the page tells whether another page follows, without a count.
      const found = await this.collection.find(filter).sort({ createdAt: -1, _id: -1 }).limit(query.limit + 1).toArray();
      const data = found.slice(0, query.limit);
      const last = data.at(-1);
      return { data, nextCursor: found.length > query.limit && last ? encodeCursor(last) : null };
    } catch (error) {
      throw toDatastoreError('listEmails', error);
    }
  }

  /** The latest e-mail of this kind about a license (its address and data serve a resend), or `null`. */
  async latest(licenseId: string, kind: EmailKind): Promise<OutboxDocument | null> {
    try {
      const [latest] = await this.collection.find({ licenseId, kind }).sort({ createdAt: -1, _id: -1 }).limit(1).toArray();
      return latest ?? null;
    } catch (error) {
      throw toDatastoreError('latestEmail', error);
    }
  }

  async #settle(claim: ClaimedEmail, fields: Partial<OutboxDocument>, operation: string, events: readonly WebhookEvent[] = []): Promise<boolean> {
    try {
      const result = await this.collection.updateOne(
        { _id: claim.email._id, status: 'pending', leaseId: claim.leaseId },
        { $set: { ...fields, leaseId: null }, ...(events.length > 0 ? { $push: { pendingWebhookEvents: { $each: [...events] } } } : {}) },
      );
      return result.matchedCount === 1;
    } catch (error) {
      throw toDatastoreError(operation, error);
    }
  }
}
