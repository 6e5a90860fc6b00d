/**
 * The webhook outbox in MongoDB: the events (`webhook_events`, one document per event id) and
 * their deliveries (`webhook_deliveries`, one per event and endpoint, id `<endpoint>:<event>`).
 * Both are written by upsert on deterministic ids, so the relay and the fan-out may run twice
 * (two workers, a crash and a restart) and still make one event and one delivery each.
 *
 * Delivery attempts are claimed with a lease, as in the e-mail outbox: {@link
 * MongoWebhookOutbox.claimDue} moves a due delivery's `nextAttemptAt` past the lease, counts the
 * attempt and stamps a lease id in one atomic findOneAndUpdate; the result is written only
 * under that lease id. A worker killed mid-delivery loses its lease when `nextAttemptAt`
 * passes and the delivery is due again: at-least-once, with the event id for deduplication.
 */
import { randomBytes } from 'node:crypto';

import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';

import type { WebhookEvent, WebhookEventType } from '../webhooks/webhook-event.js';
import { toDatastoreError } from './datastore-error.js';

/** Where a delivery stands. */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** Every {@link DeliveryStatus}, for filters. */
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const satisfies readonly DeliveryStatus[];

/** One attempt, as kept in a delivery's log. */
export interface DeliveryAttempt {
  readonly attempt: number;
  readonly at: Date;
  /** HTTP status answered, or null when none was (refused address, timeout, connection error). */
  readonly statusCode: number | null;
  readonly latencyMs: number;
  /** Short description of a failure (never a secret or the response body). */
  readonly error: string | null;
}

/** A stored event. */
export interface WebhookEventDocument {
  _id: string;
  type: WebhookEventType;
  occurredAt: Date;
  data: Readonly<Record<string, unknown>>;
  recordedAt: Date;
  /** Present until the event's deliveries have been created. */
  fanOutPending?: true;
}

/** A stored delivery. */
export interface DeliveryDocument {
  /** `<endpoint id>:<event id>`. */
  _id: string;
  endpointId: string;
  eventId: string;
  eventType: WebhookEventType;
  status: DeliveryStatus;
  /** Attempts since it was created or last redelivered by hand. */
  attempts: number;
  /** Earliest next attempt; while claimed, the end of the lease. */
  nextAttemptAt: Date;
  leaseId: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastAttempt: DeliveryAttempt | null;
  /** The last {@link ATTEMPT_LOG_LENGTH} attempts, oldest first. */
  attemptLog: DeliveryAttempt[];
}

/** Attempts kept per delivery. */
export const ATTEMPT_LOG_LENGTH = 25;

/** A delivery claimed for one attempt, with its event. */
export interface ClaimedDelivery {
  readonly delivery: DeliveryDocument;
  readonly event: WebhookEvent;
  readonly leaseId: string;
}

/** Filters and page of a delivery listing, newest first. */
export interface DeliveryQuery {
  readonly endpointId: string;
  readonly status?: DeliveryStatus;
  /** Deliveries created before this delivery (the previous page's `nextCursor`). */
  readonly cursor?: string;
  /** Page size, 1-500. */
  readonly limit: number;
}

/** Options for {@link MongoWebhookOutbox}. */
export interface MongoWebhookOutboxOptions {
  /** Database to use. Required. */
  readonly db: Db;
  /** Prefix of the collection names. Default `` (`webhook_events`, `webhook_deliveries`). */
  readonly collectionPrefix?: string;
}

/** The id of the delivery of an event to an endpoint. */
export function deliveryIdOf(endpointId: string, eventId: string): string {
  return `${endpointId}:${eventId}`;
}

/** The webhook events and deliveries. Call {@link MongoWebhookOutbox.ensureIndexes} once at start-up. */
export class MongoWebhookOutbox {
  readonly #events: Collection<WebhookEventDocument>;
  readonly #deliveries: Collection<DeliveryDocument>;

  constructor(options: MongoWebhookOutboxOptions) {
    const prefix = options.collectionPrefix ?? '';
    this.#events = options.db.collection<WebhookEventDocument>(`${prefix}webhook_events`);
    this.#deliveries = options.db.collection<DeliveryDocument>(`${prefix}webhook_deliveries`);
  }

  /** Creates the indexes (idempotent). */
  async ensureIndexes(): Promise<void> {
    try {
      await this.#events.createIndexes([{ key: { fanOutPending: 1, recordedAt: 1 }, name: 'fanOutPending_1_recordedAt_1', sparse: true }]);
      await this.#deliveries.createIndexes([
        { key: { endpointId: 1, status: 1, nextAttemptAt: 1 }, name: 'endpointId_1_status_1_nextAttemptAt_1' },
        { key: { endpointId: 1, createdAt: -1, _id: -1 }, name: 'endpointId_1_createdAt_-1__id_-1' },
      ]);
    } catch (error) {
      throw toDatastoreError('ensureIndexes', error);
    }
  }

  /** Records events (a repeated id is left as it is). */
  async record(events: readonly WebhookEvent[], now: Date): Promise<void> {
    if (events.length === 0) return;
    const operations: Array<AnyBulkWriteOperation<WebhookEventDocument>> = events.map((event) => ({
      updateOne: {
        filter: { _id: event.id },
        update: { $setOnInsert: { type: event.type, occurredAt: event.occurredAt, data: event.data, recordedAt: now, fanOutPending: true } },
        upsert: true,
      },
    }));
    try {
      await this.#events.bulkWrite(operations, { ordered: false });
    } catch (error) {
      throw toDatastoreError('recordWebhookEvents', error);
    }
  }

  /** Events whose deliveries are not all created yet, oldest first. */
  async pendingFanOut(limit: number): Promise<WebhookEvent[]> {
    try {
      const documents = await this.#events.find({ fanOutPending: true }).sort({ recordedAt: 1 }).limit(limit).toArray();
      return documents.map(toEvent);
    } catch (error) {
      throw toDatastoreError('pendingFanOut', error);
    }
  }

  /** Creates the deliveries of an event to these endpoints (idempotent), then marks the event fanned out. */
  async fanOut(event: WebhookEvent, endpointIds: readonly string[], now: Date): Promise<void> {
    await this.fanOutMany([{ event, endpointIds }], now);
  }

  /** {@link fanOut} for many events: one write for all their deliveries, one to mark them. */
  async fanOutMany(plans: ReadonlyArray<{ readonly event: WebhookEvent; readonly endpointIds: readonly string[] }>, now: Date): Promise<void> {
    if (plans.length === 0) return;
    try {
      const operations = plans.flatMap(({ event, endpointIds }) =>
          endpointIds.map((endpointId) => ({
            updateOne: {
              filter: { _id: deliveryIdOf(endpointId, event.id) },
              update: {
                $setOnInsert: {
                  endpointId,
                  eventId: event.id,
                  eventType: event.type,
                  status: 'pending' as const,
                  attempts: 0,
                  nextAttemptAt: now,
                  leaseId: null,
                  createdAt: now,
                  updatedAt: now,
                  lastAttempt: null,
                  attemptLog: [],
                },
              },
              upsert: true,
            },
          })),
      );
      if (operations.length > 0) await this.#deliveries.bulkWrite(operations, { ordered: false });
      // Only after every delivery exists: a crash before this line fans the events out again (no-op upserts).
      await this.#events.updateMany({ _id: { $in: plans.map(({ event }) => event.id) } }, { $unset: { fanOutPending: '' } });
    } catch (error) {
      throw toDatastoreError('fanOutWebhookEvent', error);
    }
  }

  /** Claims the endpoint's most overdue delivery for one attempt, or null when none is due. */
  async claimDue(endpointId: string, now: Date, leaseMs: number): Promise<ClaimedDelivery | null> {
    const leaseId = randomBytes(12).toString('hex');
    try {
      const delivery = await this.#deliveries.findOneAndUpdate(
        { endpointId, status: 'pending', nextAttemptAt: { $lte: now } },
        { $set: { nextAttemptAt: new Date(now.getTime() + leaseMs), leaseId, updatedAt: now }, $inc: { attempts: 1 } },
        { sort: { nextAttemptAt: 1 }, returnDocument: 'after' },
      );
      if (!delivery) return null;
      const event = await this.#events.findOne({ _id: delivery.eventId });
      if (!event) {
        // Events are never deleted while a delivery needs them; a missing one cannot be sent.
        await this.#settle({ delivery, leaseId }, { status: 'failed' }, null, 'settle');
        return null;
      }
      return { delivery, event: toEvent(event), leaseId };
    } catch (error) {
      throw toDatastoreError('claimDelivery', error);
    }
  }

  /**
   * Up to `limit` due deliveries of an endpoint, most overdue first, each with its event (two
   * queries in all), to be claimed one by one with {@link claim}: cheaper than a sorted
   * claim per delivery when many are due.
   */
  async dueBatch(endpointId: string, now: Date, limit: number): Promise<Array<{ readonly id: string; readonly event: WebhookEvent }>> {
    try {
      const due = await this.#deliveries
        .find({ endpointId, status: 'pending', nextAttemptAt: { $lte: now } }, { projection: { _id: 1, eventId: 1 } })
        .sort({ nextAttemptAt: 1 })
        .limit(limit)
        .toArray();
      if (due.length === 0) return [];
      const events = new Map((await this.#events.find({ _id: { $in: due.map((delivery) => delivery.eventId) } }).toArray()).map((event) => [event._id, toEvent(event)]));
      return due.flatMap((delivery) => {
        const event = events.get(delivery.eventId);
        return event ? [{ id: delivery._id, event }] : [];
      });
    } catch (error) {
      throw toDatastoreError('dueDeliveries', error);
    }
  }

  /** Claims one delivery (from {@link dueBatch}) for an attempt if it is still due; null when another worker got it first. */
  async claim(id: string, event: WebhookEvent, now: Date, leaseMs: number): Promise<ClaimedDelivery | null> {
    const leaseId = randomBytes(12).toString('hex');
    try {
      const delivery = await this.#deliveries.findOneAndUpdate(
        { _id: id, status: 'pending', nextAttemptAt: { $lte: now } },
        { $set: { nextAttemptAt: new Date(now.getTime() + leaseMs), leaseId, updatedAt: now }, $inc: { attempts: 1 } },
        { returnDocument: 'after' },
      );
      return delivery ? { delivery, event, leaseId } : null;
    } catch (error) {
      throw toDatastoreError('claimDelivery', error);
    }
  }

  /** The attempt succeeded. False when the lease was lost (another worker took the delivery over). */
  async markSucceeded(claim: Pick<ClaimedDelivery, 'delivery' | 'leaseId'>, attempt: DeliveryAttempt): Promise<boolean> {
    return this.#settle(claim, { status: 'succeeded', nextAttemptAt: attempt.at }, attempt, 'markSucceeded');
  }

  /** The attempt failed; try again at `nextAttemptAt`. */
  async markRetry(claim: Pick<ClaimedDelivery, 'delivery' | 'leaseId'>, attempt: DeliveryAttempt, nextAttemptAt: Date): Promise<boolean> {
    return this.#settle(claim, { nextAttemptAt }, attempt, 'markRetry');
  }

  /** The attempt failed and it was the last. */
  async markFailed(claim: Pick<ClaimedDelivery, 'delivery' | 'leaseId'>, attempt: DeliveryAttempt): Promise<boolean> {
    return this.#settle(claim, { status: 'failed' }, attempt, 'markFailed');
  }

  /** One delivery. */
  async get(id: string): Promise<DeliveryDocument | null> {
    try {
      return await this.#deliveries.findOne({ _id: id });
    } catch (error) {
      throw toDatastoreError('getDelivery', error);
    }
  }

  /** The event of a delivery. */
  async event(id: string): Promise<WebhookEvent | null> {
    try {
      const document = await this.#events.findOne({ _id: id });
      return document ? toEvent(document) : null;
    } catch (error) {
      throw toDatastoreError('getWebhookEvent', error);
    }
  }

  /** An endpoint's deliveries, newest first. */
  async list(query: DeliveryQuery): Promise<{ data: DeliveryDocument[]; nextCursor: string | null }> {
    try {
      const cursor = query.cursor === undefined ? null : await this.#deliveries.findOne({ _id: query.cursor, endpointId: query.endpointId });
      const filter: Filter<DeliveryDocument> = {
        endpointId: query.endpointId,
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(cursor ? { $or: [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, _id: { $lt: cursor._id } }] } : {}),
      };
      const found = await this.#deliveries.find(filter).sort({ createdAt: -1, _id: -1 }).limit(query.limit + 1).toArray();
      const data = found.slice(0, query.limit);
      return { data, nextCursor: found.length > query.limit ? (data.at(-1)?._id ?? null) : null };
    } catch (error) {
      throw toDatastoreError('listDeliveries', error);
    }
  }

  /**
   * Queues a delivery again, now, with a fresh attempt budget (manual redelivery, whatever its
   * status). Its attempt log is kept. Null when there is no such delivery.
   */
  async redeliver(id: string, now: Date): Promise<DeliveryDocument | null> {
    try {
      return await this.#deliveries.findOneAndUpdate(
        { _id: id },
        { $set: { status: 'pending', attempts: 0, nextAttemptAt: now, leaseId: null, updatedAt: now } },
        { returnDocument: 'after' },
      );
    } catch (error) {
      throw toDatastoreError('redeliver', error);
    }
  }

  /** Deliveries per status for an endpoint (for the listing). */
  async countByStatus(endpointId: string): Promise<Record<DeliveryStatus, number>> {
    const counts: Record<DeliveryStatus, number> = { pending: 0, succeeded: 0, failed: 0 };
    try {
      for (const status of DELIVERY_STATUSES) counts[status] = await this.#deliveries.countDocuments({ endpointId, status });
    } catch (error) {
      throw toDatastoreError('countDeliveries', error);
    }
    return counts;
  }

  async #settle(
    claim: Pick<ClaimedDelivery, 'delivery' | 'leaseId'>,
    fields: Partial<Pick<DeliveryDocument, 'status' | 'nextAttemptAt'>>,
    attempt: DeliveryAttempt | null,
    operation: string,
  ): Promise<boolean> {
    try {
      const result = await this.#deliveries.updateOne(
        { _id: claim.delivery._id, leaseId: claim.leaseId },
        {
          $set: { ...fields, leaseId: null, updatedAt: attempt?.at ?? claim.delivery.updatedAt, ...(attempt ? { lastAttempt: attempt } : {}) },
          ...(attempt ? { $push: { attemptLog: { $each: [attempt], $slice: -ATTEMPT_LOG_LENGTH } } } : {}),
        },
      );
      return result.matchedCount === 1;
    } catch (error) {
      throw toDatastoreError(operation, error);
    }
  }
}

function toEvent(document: WebhookEventDocument): WebhookEvent {
  return { id: document._id, type: document.type, occurredAt: document.occurredAt, data: document.data };
}
