/**
 * Stripe webhook events in MongoDB (collection `stripe_events`), keyed by the Stripe event id,
 * so a retried delivery is stored once. Each document records how processing went (status,
 * attempts, last error), which is the dead-letter view operators read and replay from.
 */
import { MongoBulkWriteError, type Collection, type Db, type Filter } from 'mongodb';

import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';
import type { PendingWebhookEvents } from './mongo-webhook-relay.js';
import { stripeEventFailedEvent } from '../webhooks/failure-events.js';
import { SNAPSHOT_READ } from './snapshot-read.js';

/**
 * Where an event is: `received` (stored; queued unless Redis was down), `queued` (queued by the
 * sweep or a replay), `retrying` (failed at least
 * once, will be tried again), `processed`, `ignored` (a type billing does not act on), `failed`
 * (given up: the dead letter).
 */
export const STRIPE_EVENT_STATUSES = ['received', 'queued', 'retrying', 'processed', 'ignored', 'failed'] as const;

/** One of {@link STRIPE_EVENT_STATUSES}. */
export type StripeEventStatus = (typeof STRIPE_EVENT_STATUSES)[number];

/** A stored event. */
export interface StripeEventDocument extends PendingWebhookEvents {
  /** Stripe event id, `evt_…`. */
  _id: string;
  type: string;
  /** Stripe's `created`. */
  created: Date;
  livemode: boolean;
  /** The body exactly as received (signed), so replays read what Stripe sent. */
  body: string;
  status: StripeEventStatus;
  /** Processing attempts so far. */
  attempts: number;
  error: { code: string; message: string } | null;
  /** What processing did, e.g. `issued`, `renew`, `SUBSCRIPTION_NOT_SEEN`. */
  outcome: string | null;
  subscriptionId: string | null;
  /**
   * E-mails this event's processing called for that had no address (e.g. a Checkout without a
   * customer e-mail): listed for operators (`undelivered=true`). Absent on events stored before.
   */
  undeliveredEmails?: string[];
  receivedAt: Date;
  updatedAt: Date;
  processedAt: Date | null;
}

/** Options for {@link MongoStripeEventStore}. */
export interface MongoStripeEventStoreOptions {
  /** Database to use. Required. */
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `stripe_events`). */
  readonly collectionPrefix?: string;
}

/** A new event, as the webhook read it. */
export interface NewStripeEvent {
  readonly id: string;
  readonly type: string;
  readonly created: Date;
  readonly livemode: boolean;
  readonly body: string;
}

/** A page of events, ordered by event id. */
export interface StripeEventQuery {
  readonly status?: StripeEventStatus | undefined;
  readonly type?: string | undefined;
  /** Only events whose processing left an e-mail without an address. */
  readonly undelivered?: boolean | undefined;
  /** Events with an id after this one (cursor: the previous page's last id). */
  readonly after?: string | undefined;
  /** 1-500. */
  readonly limit: number;
}

function newDocument(event: NewStripeEvent, now: Date): StripeEventDocument {
  return {
    _id: event.id,
    type: event.type,
    created: event.created,
    livemode: event.livemode,
    body: event.body,
    status: 'received',
    attempts: 0,
    error: null,
    outcome: null,
    subscriptionId: null,
    receivedAt: now,
    updatedAt: now,
    processedAt: null,
  };
}

/** Stripe events on MongoDB. Call {@link MongoStripeEventStore.ensureIndexes} once at start-up. */
export class MongoStripeEventStore {
  readonly collection: Collection<StripeEventDocument>;

  constructor(options: MongoStripeEventStoreOptions) {
    this.collection = options.db.collection<StripeEventDocument>(`${options.collectionPrefix ?? ''}stripe_events`);
  }

  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndex({ status: 1, receivedAt: 1 }, { name: 'status_receivedAt' });
      await this.collection.createIndex({ receivedAt: 1 }, { name: 'receivedAt_1' });
    } catch (error) {
      throw toDatastoreError('ensureStripeEventIndexes', error);
    }
  }

  /** Stores the event unless it is known; `created: false` for a repeated delivery. */
  async insert(event: NewStripeEvent, now: Date): Promise<{ created: boolean }> {
    try {
      await this.collection.insertOne(newDocument(event, now));
      return { created: true };
    } catch (error) {
      const mapped = toDatastoreError('insertStripeEvent', error);
      if (mapped instanceof DuplicateKeyError) return { created: false };
      throw mapped;
    }
  }

  /**
   * Stores several events (each with its receipt time) in one round trip (unordered: one event's failure does not stop the
   * others). One answer per event, in order: `created` (`false` for a repeated delivery, also
   * within the batch) or the error that kept that event from being stored.
   */
  async insertMany(events: ReadonlyArray<{ readonly event: NewStripeEvent; readonly now: Date }>): Promise<Array<{ ok: true; created: boolean } | { ok: false; error: Error }>> {
    if (events.length === 0) return [];
    try {
      await this.collection.insertMany(events.map(({ event, now }) => newDocument(event, now)), { ordered: false });
      return events.map(() => ({ ok: true, created: true }));
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw toDatastoreError('insertStripeEvents', error);
      const failed = new Map<number, Error>();
      const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      for (const writeError of writeErrors) failed.set(writeError.index, toDatastoreError('insertStripeEvent', { code: writeError.code, message: writeError.errmsg }));
      // A failure the server did not tie to a document (e.g. the connection dropped): nothing is known stored.
      if (failed.size === 0) throw toDatastoreError('insertStripeEvents', error);
      return events.map((_, index) => {
        const failure = failed.get(index);
        if (failure === undefined) return { ok: true, created: true };
        return failure instanceof DuplicateKeyError ? { ok: true, created: false } : { ok: false, error: failure };
      });
    }
  }

  async get(id: string): Promise<StripeEventDocument | null> {
    try {
      return await this.collection.findOne({ _id: id }, SNAPSHOT_READ);
    } catch (error) {
      throw toDatastoreError('getStripeEvent', error);
    }
  }

  /** Marks a `received` event as queued (a no-op once processing has moved it on). */
  async markQueued(id: string, now: Date): Promise<void> {
    await this.#update('markStripeEventQueued', { _id: id, status: 'received' }, { status: 'queued', updatedAt: now });
  }

  /** Records one processing attempt's result. */
  async recordAttempt(
    id: string,
    result: {
      status: StripeEventStatus;
      error?: { code: string; message: string } | null;
      outcome?: string | null;
      subscriptionId?: string | null;
      undeliveredEmails?: readonly string[];
    },
    now: Date,
  ): Promise<void> {
    if (result.status === 'failed' && (await this.#recordFailure(id, result, now))) return;
    try {
      await this.collection.updateOne(
        { _id: id },
        {
          $set: {
            status: result.status,
            error: result.error ?? null,
            updatedAt: now,
            ...(result.outcome === undefined ? {} : { outcome: result.outcome }),
            ...(result.subscriptionId === undefined || result.subscriptionId === null ? {} : { subscriptionId: result.subscriptionId }),
            ...(result.undeliveredEmails === undefined ? {} : { undeliveredEmails: [...result.undeliveredEmails] }),
            ...(result.status === 'processed' || result.status === 'ignored' ? { processedAt: now } : {}),
          },
          $inc: { attempts: 1 },
        },
      );
    } catch (error) {
      throw toDatastoreError('recordStripeEventAttempt', error);
    }
  }

  /**
   * A dead-lettering attempt, with its `stripe_event.failed` webhook event in the same write
   * (guarded by the attempt count it was built on). False when the event is not stored.
   */
  async #recordFailure(id: string, result: { error?: { code: string; message: string } | null; outcome?: string | null; subscriptionId?: string | null }, now: Date): Promise<boolean> {
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        const current = await this.collection.findOne({ _id: id });
        if (!current) return false;
        const subscriptionId = result.subscriptionId ?? current.subscriptionId;
        const outcome = result.outcome === undefined ? current.outcome : result.outcome;
        const view = {
          id,
          type: current.type,
          created: current.created,
          livemode: current.livemode,
          status: 'failed',
          attempts: current.attempts + 1,
          error: result.error ?? null,
          outcome,
          subscriptionId,
          receivedAt: current.receivedAt,
        };
        const written = await this.collection.updateOne(
          { _id: id, attempts: current.attempts },
          {
            $set: { status: 'failed', error: result.error ?? null, updatedAt: now, outcome, subscriptionId },
            $inc: { attempts: 1 },
            $push: { pendingWebhookEvents: stripeEventFailedEvent(id, current.attempts + 1, now, view) },
          },
        );
        if (written.matchedCount === 1) return true;
      }
    } catch (error) {
      throw toDatastoreError('recordStripeEventAttempt', error);
    }
    throw toDatastoreError('recordStripeEventAttempt', new Error('the event kept changing'));
  }

  /** Puts a failed (or any) event back in the queue state, for a replay. */
  async markReplayed(id: string, now: Date): Promise<boolean> {
    try {
      const result = await this.collection.updateOne({ _id: id }, { $set: { status: 'queued', error: null, updatedAt: now } });
      return result.matchedCount === 1;
    } catch (error) {
      throw toDatastoreError('replayStripeEvent', error);
    }
  }

  /** Events stored but never queued (Redis was down at receipt), received before `olderThan`. */
  async unqueued(olderThan: Date, limit: number): Promise<StripeEventDocument[]> {
    try {
      return await this.collection.find({ status: 'received', receivedAt: { $lt: olderThan } }).sort({ receivedAt: 1 }).limit(limit).toArray();
    } catch (error) {
      throw toDatastoreError('listUnqueuedStripeEvents', error);
    }
  }

  async list(query: StripeEventQuery): Promise<StripeEventDocument[]> {
    const filter: Filter<StripeEventDocument> = {
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.type === undefined ? {} : { type: query.type }),
      ...(query.undelivered === true ? { 'undeliveredEmails.0': { $exists: true } } : {}),
      ...(query.after === undefined ? {} : { _id: { $gt: query.after } }),
    };
    try {
      return await this.collection.find(filter).sort({ _id: 1 }).limit(query.limit).toArray();
    } catch (error) {
      throw toDatastoreError('listStripeEvents', error);
    }
  }

  /** Deletes finished events (processed, ignored) received before `before`; failed ones stay for operators. */
  async deleteFinishedBefore(before: Date): Promise<number> {
    try {
      const result = await this.collection.deleteMany({ status: { $in: ['processed', 'ignored'] }, receivedAt: { $lt: before } });
      return result.deletedCount;
    } catch (error) {
      throw toDatastoreError('deleteStripeEvents', error);
    }
  }

  async #update(operation: string, filter: Filter<StripeEventDocument>, set: Partial<StripeEventDocument>): Promise<void> {
    try {
      await this.collection.updateOne(filter, { $set: set });
    } catch (error) {
      throw toDatastoreError(operation, error);
    }
  }
}
