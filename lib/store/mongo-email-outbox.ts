/**
 * The e-mail outbox in MongoDB (collection `email_outbox`): one document per e-mail, written
 * before anything tries to send it, so a mail server that is down delays mail and never loses
 * it. The id derives from the request's dedupe key, so enqueueing twice is harmless and needs
 * no index beyond `_id`.
 */
import { createHash } from 'node:crypto';

import type { Collection, Db } from 'mongodb';

import type { EmailKind, EmailOutbox, EmailRequest } from '../mail/email-request.js';
import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';

/** Delivery state of an outbox e-mail. */
export type OutboxStatus = 'pending' | 'sent' | 'failed';

/** An outbox e-mail as stored. */
export interface OutboxDocument {
  /** `eml_` + 24 hex characters of SHA-256 of the dedupe key. */
  _id: string;
  dedupeKey: string;
  kind: EmailKind;
  to: string;
  licenseId: string;
  customerId: string | null;
  data: Readonly<Record<string, string | number | boolean | null>>;
  status: OutboxStatus;
  /** Delivery attempts so far. */
  attempts: number;
  createdAt: Date;
  /** Earliest time the sender may try (next) delivery. */
  nextAttemptAt: Date;
  sentAt: Date | null;
  lastError: string | null;
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

/** {@link EmailOutbox} on MongoDB. */
export class MongoEmailOutbox implements EmailOutbox {
  readonly collection: Collection<OutboxDocument>;
  readonly #onEnqueued: MongoEmailOutboxOptions['onEnqueued'];

  constructor(options: MongoEmailOutboxOptions) {
    this.collection = options.db.collection<OutboxDocument>(`${options.collectionPrefix ?? ''}email_outbox`);
    this.#onEnqueued = options.onEnqueued;
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
}
