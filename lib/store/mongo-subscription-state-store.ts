/**
 * The folded state of each Stripe subscription in MongoDB (collection `stripe_subscriptions`),
 * one document per subscription id. Every event folds in with one single-document update whose
 * result does not depend on arrival order: the newest snapshot wins by (event time, deletion,
 * event id), payments are maxima, failures and charge links are sets, refunds and disputes stick.
 */
import type { Collection, Db, UpdateFilter } from 'mongodb';

import type { BillingEvent, SubscriptionSnapshot } from '../billing/billing-event.js';
import { emptySubscriptionState, type SubscriptionState } from '../billing/subscription-state.js';
import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';
import { SNAPSHOT_READ } from './snapshot-read.js';

interface SubscriptionDocument {
  _id: string;
  stripeCustomerId: string | null;
  email: string | null;
  snapshot: SubscriptionSnapshot | null;
  snapshotAt: Date | null;
  /** Orders snapshots: `<ms, 15 digits>:<1 if deleted>:<event id>`; compared as a string. */
  snapshotKey: string;
  paidThrough: Date | null;
  lastPaidAt: Date | null;
  failures: Date[];
  refund: SubscriptionState['refund'];
  dispute: SubscriptionState['dispute'];
  deletedAt: Date | null;
  chargeIds: string[];
  invoiceIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Options for {@link MongoSubscriptionStateStore}. */
export interface MongoSubscriptionStateStoreOptions {
  /** Database to use. Required. */
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `stripe_subscriptions`). */
  readonly collectionPrefix?: string;
}

/** Events that fold into a subscription's state (all but checkout's lookups and ignored ones). */
export type FoldableEvent = Exclude<BillingEvent, { type: 'ignored' }>;

const snapshotKey = (at: Date, deleted: boolean, ref: string): string => `${String(at.getTime()).padStart(15, '0')}:${deleted ? 1 : 0}:${ref}`;

function freshDocument(subscriptionId: string, now: Date): SubscriptionDocument {
  const { subscriptionId: _id, ...empty } = emptySubscriptionState(subscriptionId);
  return {
    _id,
    ...empty,
    failures: [],
    snapshotKey: '',
    chargeIds: [],
    invoiceIds: [],
    createdAt: now,
    updatedAt: now,
  };
}

function toState(document: SubscriptionDocument): SubscriptionState {
  return {
    subscriptionId: document._id,
    stripeCustomerId: document.stripeCustomerId,
    email: document.email,
    snapshot: document.snapshot,
    snapshotAt: document.snapshotAt,
    paidThrough: document.paidThrough,
    lastPaidAt: document.lastPaidAt,
    failures: document.failures,
    refund: document.refund,
    dispute: document.dispute,
    deletedAt: document.deletedAt,
  };
}

/** Subscription states on MongoDB. Call {@link MongoSubscriptionStateStore.ensureIndexes} once at start-up. */
export class MongoSubscriptionStateStore {
  readonly collection: Collection<SubscriptionDocument>;

  constructor(options: MongoSubscriptionStateStoreOptions) {
    this.collection = options.db.collection<SubscriptionDocument>(`${options.collectionPrefix ?? ''}stripe_subscriptions`);
  }

  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndex({ chargeIds: 1 }, { name: 'chargeIds_1' });
      await this.collection.createIndex({ invoiceIds: 1 }, { name: 'invoiceIds_1' });
    } catch (error) {
      throw toDatastoreError('ensureSubscriptionIndexes', error);
    }
  }

  async get(subscriptionId: string): Promise<SubscriptionState | null> {
    try {
      const document = await this.collection.findOne({ _id: subscriptionId }, SNAPSHOT_READ);
      return document ? toState(document) : null;
    } catch (error) {
      throw toDatastoreError('getSubscription', error);
    }
  }

  /** The subscription a charge paid (linked by a paid or failed invoice), or `null`. */
  async subscriptionOfCharge(chargeId: string): Promise<string | null> {
    return this.#idWhere('findSubscriptionByCharge', { chargeIds: chargeId });
  }

  /** The subscription an invoice belongs to, or `null`. */
  async subscriptionOfInvoice(invoiceId: string): Promise<string | null> {
    return this.#idWhere('findSubscriptionByInvoice', { invoiceIds: invoiceId });
  }

  /**
   * Folds one event into the state of its subscription. Answers the state right after the fold
   * when its single round trip returned it (saves the caller a read), else `null` (events that
   * take several updates, or a fold that lost a race and was applied again).
   */
  async fold(subscriptionId: string, event: FoldableEvent, now: Date): Promise<SubscriptionState | null> {
    const customer = (id: string | null, email: string | null) => ({
      ...(id === null ? {} : { stripeCustomerId: id }),
      ...(email === null ? {} : { email }),
    });
    switch (event.type) {
      case 'checkout_completed':
        return this.#upsert(subscriptionId, { $set: { ...customer(event.stripeCustomerId, event.email), updatedAt: now } }, now);
      case 'subscription_changed': {
        const folded = await this.foldSnapshot(event.snapshot, event.created, event.eventId, now, event.deleted);
        if (!event.deleted) return folded;
        // $min would keep a null (BSON orders null first): set it when unset, else keep the earliest.
        await this.#update(subscriptionId, { $set: { deletedAt: event.created } }, { deletedAt: null });
        await this.#update(subscriptionId, { $set: { deletedAt: event.created } }, { deletedAt: { $gt: event.created } });
        return null;
      }
      case 'invoice_paid':
        return this.#upsert(
          subscriptionId,
          {
            $set: { ...customer(event.stripeCustomerId, event.email), updatedAt: now },
            $max: { lastPaidAt: event.created, ...(event.periodEndsAt === null ? {} : { paidThrough: event.periodEndsAt }) },
            $addToSet: { invoiceIds: event.invoiceId, ...(event.chargeId === null ? {} : { chargeIds: event.chargeId }) },
          },
          now,
        );
      case 'invoice_payment_failed':
        return this.#upsert(
          subscriptionId,
          {
            $set: { ...customer(event.stripeCustomerId, event.email), updatedAt: now },
            $addToSet: { failures: event.created, invoiceIds: event.invoiceId, ...(event.chargeId === null ? {} : { chargeIds: event.chargeId }) },
          },
          now,
        );
      case 'charge_refunded':
        if (!event.fullyRefunded) return null;
        await this.#upsert(subscriptionId, { $addToSet: { chargeIds: event.chargeId } }, now);
        await this.#update(subscriptionId, { $set: { refund: { at: event.created, ref: event.chargeId }, updatedAt: now } }, { refund: null });
        return null;
      case 'dispute_created':
        await this.#upsert(subscriptionId, { $addToSet: { chargeIds: event.chargeId } }, now);
        await this.#update(
          subscriptionId,
          { $set: { dispute: { at: event.created, ref: event.eventId, disputeId: event.disputeId, reason: event.reason, chargeId: event.chargeId }, updatedAt: now } },
          { dispute: null },
        );
        return null;
    }
  }

  /**
   * Folds a snapshot taken at `at` (an event's `created`, or the time of an API read): it
   * replaces the stored one only when it is newer.
   */
  async foldSnapshot(snapshot: SubscriptionSnapshot, at: Date, ref: string, now: Date, deleted = false): Promise<SubscriptionState | null> {
    const key = snapshotKey(at, deleted, ref);
    const customer = snapshot.stripeCustomerId === null ? {} : { stripeCustomerId: snapshot.stripeCustomerId };
    // One round trip: a guarded upsert. A duplicate key means the document exists and the guard
    // did not match (a newer snapshot is stored) or a concurrent first fold inserted it between
    // match and insert; the guarded update settles both.
    return this.#upsert(snapshot.subscriptionId, { $set: { snapshot, snapshotAt: at, snapshotKey: key, ...customer, updatedAt: now } }, now, { snapshotKey: { $lt: key } });
  }

  /** Deletes the state of subscriptions untouched since `before` whose license is gone (retention). */
  async deleteUntouchedBefore(before: Date): Promise<number> {
    try {
      return (await this.collection.deleteMany({ updatedAt: { $lt: before } })).deletedCount;
    } catch (error) {
      throw toDatastoreError('deleteSubscriptions', error);
    }
  }

  /**
   * An update (guarded by `guard`, default none) that creates the document when missing, in one
   * round trip that also answers the state after it; `null` when it had to be applied again.
   */
  async #upsert(subscriptionId: string, update: UpdateFilter<SubscriptionDocument>, now: Date, guard: Record<string, unknown> = {}): Promise<SubscriptionState | null> {
    const touched = new Set(Object.values(update).flatMap((fields) => Object.keys(fields as object)));
    const defaults = Object.fromEntries(Object.entries(freshDocument(subscriptionId, now)).filter(([field]) => field !== '_id' && !touched.has(field)));
    try {
      const document = await this.collection.findOneAndUpdate({ _id: subscriptionId, ...guard }, { ...update, $setOnInsert: defaults }, { upsert: true, returnDocument: 'after' });
      return document === null ? null : toState(document);
    } catch (error) {
      const mapped = toDatastoreError('foldSubscription', error);
      // Two first events at once: the loser's upsert collides with the winner's insert (or the
      // guard refused an older snapshot): apply again as a plain guarded update.
      if (!(mapped instanceof DuplicateKeyError)) throw mapped;
      await this.#update(subscriptionId, update, guard);
      return null;
    }
  }

  async #update(subscriptionId: string, update: UpdateFilter<SubscriptionDocument>, guard: Record<string, unknown> = {}): Promise<void> {
    try {
      await this.collection.updateOne({ _id: subscriptionId, ...guard }, update);
    } catch (error) {
      throw toDatastoreError('foldSubscription', error);
    }
  }

  async #idWhere(operation: string, filter: Record<string, string>): Promise<string | null> {
    try {
      const document = await this.collection.findOne(filter, { projection: { _id: 1 } });
      return document?._id ?? null;
    } catch (error) {
      throw toDatastoreError(operation, error);
    }
  }
}
