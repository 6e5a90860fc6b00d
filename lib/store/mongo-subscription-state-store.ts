/**
 * The folded state of each Stripe subscription in MongoDB (collection `stripe_subscriptions`),
 * one document per subscription id. Every event folds in with one single-document update whose
 * result does not depend on arrival order: snapshots are a set (pushed once per event id, the
 * current one derived when read, lib/billing/subscription-history.ts), the newest API read is
 * kept beside them, payments are maxima, failures and charge / payment intent / invoice links
 * are sets, refunds and disputes stick.
 */
import type { Collection, Db, UpdateFilter } from 'mongodb';

import type { BillingEvent, SubscriptionSnapshot } from '../billing/billing-event.js';
import type { SnapshotFact } from '../billing/subscription-history.js';
import { emptySubscriptionState, type SubscriptionState } from '../billing/subscription-state.js';
import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';
import { SNAPSHOT_READ } from './snapshot-read.js';

interface SubscriptionDocument {
  _id: string;
  stripeCustomerId: string | null;
  email: string | null;
  /** Every snapshot an event showed, once per event id. */
  snapshots: SnapshotFact[];
  /** The newest read of the subscription from the Stripe API. */
  apiSnapshot: { at: Date; snapshot: SubscriptionSnapshot } | null;
  paidThrough: Date | null;
  lastPaidAt: Date | null;
  failures: Date[];
  refund: SubscriptionState['refund'];
  dispute: SubscriptionState['dispute'];
  deletedAt: Date | null;
  chargeIds: string[];
  invoiceIds: string[];
  paymentIntentIds: string[];
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

function freshDocument(subscriptionId: string, now: Date): SubscriptionDocument {
  const { subscriptionId: _id, ...empty } = emptySubscriptionState(subscriptionId);
  return {
    _id,
    ...empty,
    failures: [],
    snapshots: [],
    apiSnapshot: null,
    chargeIds: [],
    invoiceIds: [],
    paymentIntentIds: [],
    createdAt: now,
    updatedAt: now,
  };
}

function toState(document: SubscriptionDocument): SubscriptionState {
  return {
    subscriptionId: document._id,
    stripeCustomerId: document.stripeCustomerId,
    email: document.email,
    snapshots: document.apiSnapshot === null ? document.snapshots : [...document.snapshots, { ref: 'api', at: document.apiSnapshot.at, deleted: false, snapshot: document.apiSnapshot.snapshot, previous: null }],
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
      await this.collection.createIndex({ paymentIntentIds: 1 }, { name: 'paymentIntentIds_1' });
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

  /** The subscription a payment intent paid (linked by an invoice or its invoice payment), or `null`. */
  async subscriptionOfPaymentIntent(paymentIntentId: string): Promise<string | null> {
    return this.#idWhere('findSubscriptionByPaymentIntent', { paymentIntentIds: paymentIntentId });
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
    const links = (chargeId: string | null, paymentIntentId: string | null) => ({
      ...(chargeId === null ? {} : { chargeIds: chargeId }),
      ...(paymentIntentId === null ? {} : { paymentIntentIds: paymentIntentId }),
    });
    switch (event.type) {
      case 'invoice_payment_paid':
        return this.#upsert(subscriptionId, { $set: { updatedAt: now }, $addToSet: { invoiceIds: event.invoiceId, ...links(event.chargeId, event.paymentIntentId) } }, now);
      case 'checkout_completed':
        return this.#upsert(subscriptionId, { $set: { ...customer(event.stripeCustomerId, event.email), updatedAt: now } }, now);
      case 'subscription_changed': {
        const fact: SnapshotFact = { ref: event.eventId, at: event.created, deleted: event.deleted, snapshot: event.snapshot, previous: event.previous };
        const customerId = event.snapshot.stripeCustomerId === null ? {} : { stripeCustomerId: event.snapshot.stripeCustomerId };
        // One round trip: pushed unless this event's snapshot is already in the set.
        const folded = await this.#upsert(subscriptionId, { $set: { ...customerId, updatedAt: now }, $push: { snapshots: fact } }, now, { 'snapshots.ref': { $ne: event.eventId } });
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
            $addToSet: { invoiceIds: event.invoiceId, ...links(event.chargeId, event.paymentIntentId) },
          },
          now,
        );
      case 'invoice_payment_failed':
        return this.#upsert(
          subscriptionId,
          {
            $set: { ...customer(event.stripeCustomerId, event.email), updatedAt: now },
            $addToSet: { failures: event.created, invoiceIds: event.invoiceId, ...links(event.chargeId, event.paymentIntentId) },
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
   * Keeps a read of the subscription from the Stripe API made at `at`, unless a newer read is
   * kept already. It joins the snapshots as the fact `api` (it is newer than every event created
   * before it, so it settles snapshots that tie).
   */
  async foldApiSnapshot(snapshot: SubscriptionSnapshot, at: Date, now: Date): Promise<void> {
    const customer = snapshot.stripeCustomerId === null ? {} : { stripeCustomerId: snapshot.stripeCustomerId };
    const update = { $set: { apiSnapshot: { at, snapshot }, ...customer, updatedAt: now } };
    await this.#upsert(snapshot.subscriptionId, update, now, { apiSnapshot: null });
    await this.#update(snapshot.subscriptionId, update, { 'apiSnapshot.at': { $lt: at } });
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
