/**
 * The relay from source documents to the webhook outbox. MongoDB here has no multi-document
 * transactions (design.md, Storage notes), so an event cannot be inserted into the outbox "in
 * the same transaction" as the change it describes. Instead the writer pushes the event onto
 * the changed document itself (`pendingWebhookEvents`), in the same single-document update as
 * the change; this relay then copies pending events into the outbox and removes them from the
 * source. Each step is idempotent and the order makes every crash harmless:
 *
 * 1. read the source's pending events;
 * 2. upsert each into the outbox by its deterministic id (a copy made twice is one event);
 * 3. unset the array if it still holds exactly those events (size and ids), else `$pull`
 *    exactly those ids (events pushed meanwhile stay) and unset the array only if it is then
 *    empty (guarded by `$size: 0`, so a push in between is never lost).
 *
 * A crash after 2 leaves the events on the source; the next run copies them again (no-op) and
 * pulls them. A change that failed never wrote its events, so none is sent for it.
 */
import type { Collection, Db, Document, Filter, IndexDescription } from 'mongodb';

import type { WebhookEvent } from '../webhooks/webhook-event.js';
import { toDatastoreError } from './datastore-error.js';
import type { MongoWebhookOutbox } from './mongo-webhook-outbox.js';

/** The field that holds a document's events not yet relayed. */
export const PENDING_WEBHOOK_EVENTS = 'pendingWebhookEvents';

/** The field, as part of a stored document. */
export interface PendingWebhookEvents {
  /** Events recorded with this document's last changes, not yet copied to the outbox; absent when none. */
  pendingWebhookEvents?: WebhookEvent[];
}

/**
 * A document to write by whole-document replace (or insert), with the events of this change
 * added to the events still pending on the version it replaces (`previous`, as read). A
 * replace must carry them: it would otherwise drop events not yet relayed. Events the relay
 * took meanwhile may be carried again; copying one twice is a no-op (same id).
 */
export function withPendingWebhookEvents<T extends object>(document: T, previous: object | null, events: readonly WebhookEvent[]): T & PendingWebhookEvents {
  const { pendingWebhookEvents: _dropped, ...rest } = document as T & PendingWebhookEvents;
  const carried = (previous as PendingWebhookEvents | null)?.pendingWebhookEvents ?? [];
  const pending = [...carried.filter((event) => !events.some((added) => added.id === event.id)), ...events];
  return (pending.length === 0 ? rest : { ...rest, pendingWebhookEvents: pending }) as T & PendingWebhookEvents;
}

/** The sparse index that lets the relay find documents with pending events without a scan. */
export const PENDING_WEBHOOK_EVENTS_INDEX: IndexDescription = { key: { [`${PENDING_WEBHOOK_EVENTS}.id`]: 1 }, name: 'pendingWebhookEvents.id_1', sparse: true };

/** Options for {@link MongoWebhookRelay}. */
export interface MongoWebhookRelayOptions {
  /** Database of the source collections. Required. */
  readonly db: Db;
  /** Where events are copied to. Required. */
  readonly outbox: MongoWebhookOutbox;
  /** Collections whose documents carry `pendingWebhookEvents`. Default: `licenses`, `abuse_cases`, `email_outbox`, `stripe_events` (with `collectionPrefix`). */
  readonly sources?: readonly string[];
  /** Prefix of the collection names. Default ``. */
  readonly collectionPrefix?: string;
}

/** The collections that record webhook events. */
export const WEBHOOK_SOURCE_COLLECTIONS = ['licenses', 'abuse_cases', 'email_outbox', 'stripe_events'] as const;

type SourceDocument = Document & { _id: unknown; pendingWebhookEvents?: WebhookEvent[] };

/** Copies pending events from their source documents into the outbox. */
export class MongoWebhookRelay {
  readonly #outbox: MongoWebhookOutbox;
  readonly #sources: Array<Collection<SourceDocument>>;

  constructor(options: MongoWebhookRelayOptions) {
    const prefix = options.collectionPrefix ?? '';
    this.#outbox = options.outbox;
    this.#sources = (options.sources ?? WEBHOOK_SOURCE_COLLECTIONS).map((name) => options.db.collection<SourceDocument>(`${prefix}${name}`));
  }

  /** Creates the sparse index on every source (idempotent). */
  async ensureIndexes(): Promise<void> {
    try {
      for (const source of this.#sources) await source.createIndexes([PENDING_WEBHOOK_EVENTS_INDEX]);
    } catch (error) {
      throw toDatastoreError('ensureIndexes', error);
    }
  }

  /**
   * Relays the pending events of up to `limit` documents per source.
   *
   * @returns The number of events copied (repeated copies included).
   */
  async relay(now: Date, limit = 500): Promise<number> {
    let copied = 0;
    try {
      for (const source of this.#sources) {
        const filter: Filter<SourceDocument> = { [PENDING_WEBHOOK_EVENTS]: { $exists: true } };
        const documents = await source.find(filter, { projection: { [PENDING_WEBHOOK_EVENTS]: 1 } }).limit(limit).toArray();
        if (documents.length === 0) continue;
        // One outbox write for the whole page.
        await this.#outbox.record(documents.flatMap((document) => document.pendingWebhookEvents ?? []), now);
        copied += documents.reduce((sum, document) => sum + (document.pendingWebhookEvents?.length ?? 0), 0);
        // Where nothing was pushed meanwhile (the array is exactly what was copied), drop it: one batch.
        await source.bulkWrite(
          documents.map((document) => {
            const ids = (document.pendingWebhookEvents ?? []).map((event) => event.id);
            return {
              updateOne: {
                filter: { _id: document._id, [PENDING_WEBHOOK_EVENTS]: { $size: ids.length }, ...(ids.length > 0 ? { [`${PENDING_WEBHOOK_EVENTS}.id`]: { $all: ids } } : {}) },
                update: { $unset: { [PENDING_WEBHOOK_EVENTS]: '' } },
              },
            };
          }),
          { ordered: false },
        );
        // The rest gained events meanwhile: pull exactly the copied ones, keep the new ones.
        const copiedIds = new Map(documents.map((document) => [String(document._id), (document.pendingWebhookEvents ?? []).map((event) => event.id)]));
        const changed = await source.find({ _id: { $in: documents.map((document) => document._id) }, [PENDING_WEBHOOK_EVENTS]: { $exists: true } } as Filter<SourceDocument>, { projection: { _id: 1 } }).toArray();
        for (const { _id } of changed) {
          await source.updateOne({ _id }, { $pull: { [PENDING_WEBHOOK_EVENTS]: { id: { $in: copiedIds.get(String(_id)) ?? [] } } } } as Document);
          await source.updateOne({ _id, [PENDING_WEBHOOK_EVENTS]: { $size: 0 } }, { $unset: { [PENDING_WEBHOOK_EVENTS]: '' } });
        }
      }
    } catch (error) {
      throw toDatastoreError('relayWebhookEvents', error);
    }
    return copied;
  }
}
