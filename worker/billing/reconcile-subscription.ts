/**
 * Brings a subscription's license in line with what billing knows about it: decide (pure),
 * apply the one change, decide again on what it wrote, until the decision is settled; then run
 * the settled state's idempotent effects (e-mails, a recheck at the end of a payment grace, the
 * dispute signal). Runs under the subscription's lock, which every write of the subscription's
 * state and license by billing holds, so what this job read or wrote stays current meanwhile.
 */
import type { Logger } from 'pino';

import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import { trialCustomerOf } from '../../lib/abuse/trial-registration.js';
import { decideBillingActions, type BillingEffect } from '../../lib/billing/decide-billing-actions.js';
import { latestSnapshot } from '../../lib/billing/subscription-history.js';
import type { SubscriptionState } from '../../lib/billing/subscription-state.js';
import type { License } from '../../lib/lifecycle/license.js';
import type { EmailOutbox } from '../../lib/mail/email-request.js';
import type { Keyward } from '../../lib/service/create-keyward.js';
import { DuplicateKeyError } from '../../lib/store/datastore-error.js';
import type { LicenseRecord } from '../../lib/store/license-record.js';
import type { CustomerDocument, MongoCustomerStore } from '../../lib/store/mongo-customer-store.js';
import type { MongoSubscriptionStateStore } from '../../lib/store/mongo-subscription-state-store.js';
import type { WorkerHooks } from '../worker-hooks.js';
import { BillingJobError } from './billing-job-error.js';
import type { StripeApiReader } from './stripe-api-reader.js';
import type { SubscriptionLock } from './subscription-lock.js';

/** What reconciling needs. */
export interface ReconcileDependencies {
  readonly keyward: Keyward;
  readonly states: MongoSubscriptionStateStore;
  readonly customers: MongoCustomerStore;
  readonly outbox: EmailOutbox;
  readonly lock: SubscriptionLock;
  /** Stripe API reads, or `null` when no API key is configured. */
  readonly stripe: StripeApiReader | null;
  readonly hooks: WorkerHooks;
  readonly logger: Logger;
  readonly paymentGraceMs: number;
  /** Validity added after each paid period end, covering late renewal webhooks, ms (BILLING_RENEWAL_GRACE_SECONDS). Default 0. */
  readonly renewalGraceMs?: number;
  /** Queues a reconcile of the subscription at `at`. */
  readonly scheduleRecheck: (subscriptionId: string, at: Date) => Promise<void>;
  readonly clock: () => Date;
}

/** What a reconcile did: the changes it applied, and how it ended. */
export interface ReconcileResult {
  readonly changes: readonly string[];
  readonly outcome: 'settled' | 'nothing_to_provision';
  readonly code?: string;
  readonly licenseId: string | null;
  /** E-mails the settled license called for that had no address to go to (the customer has no e-mail yet). */
  readonly undelivered?: readonly string[];
}

const MAX_STEPS = 12;

/**
 * Reconciles one subscription (see the module comment). `fold`, when given, writes an event into
 * the subscription's state under the lock first and answers the state after it (or `null`), so
 * the first decision needs no read: every state write happens under this lock, so that state is
 * the current one.
 */
export async function reconcileSubscription(
  deps: ReconcileDependencies,
  subscriptionId: string,
  ref: string,
  fold?: () => Promise<SubscriptionState | null>,
): Promise<ReconcileResult> {
  return deps.lock.run(subscriptionId, async () => reconcileLocked(deps, subscriptionId, ref, fold === undefined ? null : await fold()));
}

async function reconcileLocked(deps: ReconcileDependencies, subscriptionId: string, ref: string, folded: SubscriptionState | null): Promise<ReconcileResult> {
  const { keyward, states, logger } = deps;
  const changes: string[] = [];
  let lastRefusal: string | null = null;
  // What this job itself just wrote (the license it issued or changed, under the lock), so the
  // next decision needs no re-read. The state is not re-read either: only holders of the lock
  // write it (the fold above, the API read below).
  let known = null as { state: SubscriptionState; record: LicenseRecord } | null;
  let customer: CustomerDocument | null = null;
  let readTie = false;
  for (let step = 0; step < MAX_STEPS; step++) {
    const now = deps.clock();
    let state: SubscriptionState | null = known?.state ?? (step === 0 ? folded : null) ?? (await states.get(subscriptionId));
    if ((state === null || state.snapshots.length === 0) && deps.stripe !== null) {
      // Checkout names the subscription only: read it as it is now (newer than any event so far).
      await states.foldApiSnapshot(await deps.stripe.subscription(subscriptionId), now, now);
      state = await states.get(subscriptionId);
    }
    if (state === null) throw new BillingJobError('SUBSCRIPTION_NOT_SEEN', `Nothing is known yet about subscription ${subscriptionId}.`, { retry: true });
    const record = known?.record ?? (await keyward.licenses.findBySubscription(subscriptionId));
    known = null;
    const license = record?.license ?? null;
    const decision = decideBillingActions({
      state,
      license,
      plans: keyward.plans,
      now,
      paymentGraceMs: deps.paymentGraceMs,
      renewalGraceMs: deps.renewalGraceMs ?? 0,
      canReadApi: deps.stripe !== null && !readTie,
      ref,
    });
    switch (decision.outcome) {
      case 'needs_api_read':
        // The newest snapshots share a second and nothing orders them: ask Stripe which is current.
        if (deps.stripe !== null) await states.foldApiSnapshot(await deps.stripe.subscription(subscriptionId), now, now);
        readTie = true;
        continue;
      case 'waiting':
        throw new BillingJobError('SUBSCRIPTION_NOT_SEEN', `Subscription ${subscriptionId} has not been seen yet (no subscription event, no Stripe API key).`, { retry: true });
      case 'refused':
        throw new BillingJobError(decision.code, decision.message, { retry: false });
      case 'nothing_to_provision':
        return { changes, outcome: 'nothing_to_provision', code: decision.code, licenseId: null };
      case 'settled': {
        const undelivered = license === null ? [] : await runEffects(deps, state, license, decision.effects, customer);
        return { changes, outcome: 'settled', licenseId: license?.id ?? null, ...(undelivered.length === 0 ? {} : { undelivered }) };
      }
      case 'change':
        break;
    }
    const { change } = decision;
    if (change.type === 'issue') {
      customer = state.stripeCustomerId === null ? null : await deps.customers.findOrCreateByStripeId(state.stripeCustomerId, state.email, now);
      let issued;
      try {
        issued = await keyward.licenses.issue({
          planId: change.planId,
          ...(change.seats === null ? {} : { seats: change.seats }),
          keyType: change.keyType,
          customerId: customer?._id ?? null,
          stripeSubscriptionId: subscriptionId,
          email: customer?.email ?? state.email,
          ...(change.trialEndsAt === null ? { periodEndsAt: change.periodEndsAt } : { trial: true, trialEndsAt: change.trialEndsAt }),
          cause: { actor: 'stripe', ref },
        });
      } catch (error) {
        // Another worker issued it first (the unique subscription index): decide again on theirs.
        if (error instanceof DuplicateKeyError) continue;
        throw error;
      }
      if (!issued.ok) throw new BillingJobError('LICENSE_REFUSED', `Issuing failed: ${issued.refusal.code}: ${issued.refusal.message}`, { retry: false });
      changes.push('issue');
      known = { state, record: issued.value.record };
      continue;
    }
    if (license === null) continue;
    const result = await keyward.licenses.apply(license.id, change.command);
    if (result.ok) {
      changes.push(change.command.type);
      lastRefusal = null;
      known = { state, record: result.value };
      continue;
    }
    // A refusal after a fresh read is a real conflict (e.g. a downgrade with more seats bound than allowed).
    const code = `${change.command.type}:${result.refusal.code}`;
    if (code === lastRefusal) {
      logger.warn({ subscriptionId, licenseId: license.id, refusal: result.refusal.code }, 'billing change refused');
      throw new BillingJobError('LICENSE_REFUSED', `${change.command.type} refused: ${result.refusal.code}: ${result.refusal.message}`, { retry: false });
    }
    lastRefusal = code;
  }
  throw new BillingJobError('INTERNAL', `Subscription ${subscriptionId} did not settle in ${MAX_STEPS} steps.`, { retry: true });
}

async function reportTrial(deps: ReconcileDependencies, state: SubscriptionState, license: License, email: string | null): Promise<void> {
  const hook = deps.hooks.onTrialStarted;
  if (!hook) return;
  let cardFingerprint: string | null = null;
  const method = latestSnapshot(state.snapshots)?.fact.snapshot.defaultPaymentMethod ?? null;
  if (method !== null && deps.stripe !== null) {
    try {
      cardFingerprint = await deps.stripe.cardFingerprint(method);
    } catch (error) {
      deps.logger.warn({ err: error, subscriptionId: state.subscriptionId }, 'card fingerprint not read');
    }
  }
  try {
    await hook({
      licenseId: license.id,
      customerId: trialCustomerOf(license.id, license.customerId),
      email,
      cardFingerprint,
      deviceFingerprint: null,
      ip: null,
      stripeSubscriptionId: state.subscriptionId,
      startedAt: license.createdAt,
    });
  } catch (error) {
    deps.logger.warn({ err: error, licenseId: license.id }, 'trial registration hook failed');
  }
}

/**
 * Runs a settled decision's effects; `known` is a customer this job already read (saves a read
 * when it is the license's). Answers the kinds of the e-mails that had no address.
 */
async function runEffects(deps: ReconcileDependencies, state: SubscriptionState, license: License, effects: readonly BillingEffect[], known: CustomerDocument | null): Promise<string[]> {
  const undelivered: string[] = [];
  if (effects.length === 0) return undelivered;
  const now = deps.clock();
  // Only e-mails and the trial report need the address.
  const needsAddress = effects.some((effect) => effect.type === 'email' || effect.type === 'trial_started');
  const customer = !needsAddress || license.customerId === null ? null : known?._id === license.customerId ? known : await deps.customers.get(license.customerId);
  const to = customer?.email ?? state.email;
  for (const effect of effects) {
    switch (effect.type) {
      case 'email':
        if (to === null) {
          // Not silent: the job records it on the event (listed by the admin API) and it is logged.
          undelivered.push(effect.kind);
          break;
        }
        await deps.outbox.enqueue({ kind: effect.kind, to, licenseId: license.id, customerId: license.customerId, dedupeKey: effect.dedupeKey, data: effect.data }, now);
        break;
      case 'recheck':
        await deps.scheduleRecheck(state.subscriptionId, effect.at);
        break;
      case 'dispute_signal':
        if (state.dispute && deps.hooks.onSignal) await deps.hooks.onSignal(disputeSignal(license, state.dispute, now));
        break;
      case 'trial_started':
        await reportTrial(deps, state, license, to);
        break;
    }
  }
  if (undelivered.length > 0) deps.logger.warn({ subscriptionId: state.subscriptionId, licenseId: license.id, kinds: undelivered }, 'billing e-mail not sent: the customer has no e-mail address');
  return undelivered;
}

/** The abuse signal of a payment dispute (deterministic id: one per license and dispute time). */
export function disputeSignal(license: License, dispute: NonNullable<SubscriptionState['dispute']>, now: Date): AbuseSignal {
  return {
    id: `sig_payment_dispute_${license.id}_${dispute.at.getTime()}`,
    kind: 'payment_dispute',
    subject: { type: 'license', licenseId: license.id },
    window: { start: dispute.at, end: dispute.at },
    value: 1,
    threshold: 1,
    severity: 60,
    evidence: {
      details: { disputeId: dispute.disputeId, reason: dispute.reason, chargeId: dispute.chargeId, stripeEventId: dispute.ref },
      firstSeen: dispute.at,
      lastSeen: dispute.at,
    },
    detectedAt: now,
  };
}
