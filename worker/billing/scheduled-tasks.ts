/**
 * The billing maintenance jobs, each a function of `now`: apply due downgrades, expire licenses
 * (trials included) whose period and grace have ended, queue trial_ending e-mails, delete data
 * past its retention, and queue events that were stored while Redis was away. Each is safe to
 * run on several workers at once: lifecycle commands are version-guarded and refuse what is not
 * due (NOT_DUE, NO_PENDING_CHANGE, ALREADY_EXPIRED), e-mails are deduplicated, deletes are
 * idempotent.
 */
import type { Db } from 'mongodb';

import type { LicenseCommand } from '../../lib/lifecycle/commands.js';
import type { EmailOutbox } from '../../lib/mail/email-request.js';
import type { Keyward } from '../../lib/service/create-keyward.js';
import { toDatastoreError } from '../../lib/store/datastore-error.js';
import type { MongoCustomerStore } from '../../lib/store/mongo-customer-store.js';
import type { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import type { MongoStripeEventStore } from '../../lib/store/mongo-stripe-event-store.js';

/** What the tasks need. */
export interface ScheduledTaskDependencies {
  readonly db: Db;
  readonly keyward: Keyward;
  readonly customers: MongoCustomerStore;
  readonly events: MongoStripeEventStore;
  readonly outbox: EmailOutbox & Pick<MongoEmailOutbox, 'collection'>;
  /** Validity after the period end before a license expires, ms. */
  readonly expiryGraceMs: number;
  readonly trialNoticeMs: number;
  readonly eventRetentionMs: number;
  readonly sentEmailRetentionMs: number;
  /** Age after which the sweep queues a stored event that never reached the queue, ms. */
  readonly sweepAfterMs: number;
  /** Queues a stored event's job (the sweep). */
  readonly enqueueEvent: (eventId: string) => Promise<void>;
}

/** Licenses touched per run; the next run takes the rest. */
const BATCH = 500;

async function idsWhere(deps: ScheduledTaskDependencies, filter: Record<string, unknown>): Promise<string[]> {
  try {
    const found = await deps.db.collection<{ _id: string }>('licenses').find(filter, { projection: { _id: 1 } }).limit(BATCH).toArray();
    return found.map((document) => document._id);
  } catch (error) {
    throw toDatastoreError('findDueLicenses', error);
  }
}

async function applyToEach(deps: ScheduledTaskDependencies, ids: readonly string[], command: LicenseCommand): Promise<number> {
  let applied = 0;
  for (const id of ids) {
    // A refusal means another worker (or an event) got there first, or it is not due: fine.
    if ((await deps.keyward.licenses.apply(id, command)).ok) applied++;
  }
  return applied;
}

/** Applies pending downgrades whose time has come. */
export async function applyPendingChanges(deps: ScheduledTaskDependencies, now: Date): Promise<number> {
  const ids = await idsWhere(deps, { 'pendingChange.effectiveAt': { $lte: now }, status: { $ne: 'revoked' } });
  return applyToEach(deps, ids, { type: 'apply_pending_change', cause: { actor: 'system', reason: 'scheduled downgrade' } });
}

/** Expires licenses (trials end this way too) whose period and grace have ended. */
export async function expireLicenses(deps: ScheduledTaskDependencies, now: Date): Promise<number> {
  const ids = await idsWhere(deps, { status: { $in: ['active', 'suspended'] }, periodEndsAt: { $ne: null, $lte: new Date(now.getTime() - deps.expiryGraceMs) } });
  return applyToEach(deps, ids, { type: 'expire', graceMs: deps.expiryGraceMs, cause: { actor: 'system', reason: 'period ended' } });
}

/** Queues a trial_ending e-mail for each trial ending within the notice period (once per license and trial end). */
export async function queueTrialEndingNotices(deps: ScheduledTaskDependencies, now: Date): Promise<number> {
  let found: Array<{ _id: string; customerId: string | null; planId: string; trial: { endsAt: Date } }>;
  try {
    found = await deps.db
      .collection<{ _id: string; customerId: string | null; planId: string; trial: { endsAt: Date } }>('licenses')
      .find({ status: 'active', 'trial.endsAt': { $gt: now, $lte: new Date(now.getTime() + deps.trialNoticeMs) } })
      .project<{ _id: string; customerId: string | null; planId: string; trial: { endsAt: Date } }>({ _id: 1, customerId: 1, planId: 1, trial: 1 })
      .limit(BATCH)
      .toArray();
  } catch (error) {
    throw toDatastoreError('findEndingTrials', error);
  }
  let queued = 0;
  for (const license of found) {
    const customer = license.customerId === null ? null : await deps.customers.get(license.customerId);
    if (!customer?.email) continue;
    const { created } = await deps.outbox.enqueue(
      {
        kind: 'trial_ending',
        to: customer.email,
        licenseId: license._id,
        customerId: license.customerId,
        dedupeKey: `trial_ending:${license._id}:${license.trial.endsAt.getTime()}`,
        data: { planId: license.planId, trialEndsAt: license.trial.endsAt.toISOString() },
      },
      now,
    );
    if (created) queued++;
  }
  return queued;
}

/** Deletes processed Stripe events and sent e-mails past their retention (failed ones stay). */
export async function deleteExpiredData(deps: ScheduledTaskDependencies, now: Date): Promise<{ events: number; emails: number }> {
  const events = await deps.events.deleteFinishedBefore(new Date(now.getTime() - deps.eventRetentionMs));
  let emails: number;
  try {
    emails = (await deps.outbox.collection.deleteMany({ status: 'sent', sentAt: { $lt: new Date(now.getTime() - deps.sentEmailRetentionMs) } })).deletedCount;
  } catch (error) {
    throw toDatastoreError('deleteSentEmails', error);
  }
  return { events, emails };
}

/**
 * Queues events stored more than `sweepAfterMs` ago and still unprocessed: those whose enqueue
 * failed (Redis was down) run now; for those already waiting, BullMQ ignores the repeated job id.
 */
export async function sweepUnqueuedEvents(deps: ScheduledTaskDependencies, now: Date): Promise<number> {
  const stale = await deps.events.unqueued(new Date(now.getTime() - deps.sweepAfterMs), BATCH);
  for (const event of stale) {
    await deps.enqueueEvent(event._id);
    await deps.events.markQueued(event._id, now);
  }
  return stale.length;
}
