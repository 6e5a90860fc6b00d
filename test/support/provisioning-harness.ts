/**
 * Provisioning without the queue and the HTTP hop, for property tests that play thousands of
 * deliveries: each raw Stripe event is read by the real parser, linked and folded by the real
 * MongoDB store (on the test run's MongoDB-wire server), and the license is brought in line by
 * the real pure decision, applied with the real lifecycle functions, exactly as the worker does
 * (worker/billing/process-stripe-event.ts, reconcile-subscription.ts) minus the lock, the
 * license store and the outbox: the license is kept in memory and e-mails in a map by dedupe key.
 * An event that cannot be linked yet is put back at the end of the line (the worker retries it).
 */
import type { Db } from 'mongodb';

import type { BillingEvent } from '../../lib/billing/billing-event.js';
import { decideBillingActions } from '../../lib/billing/decide-billing-actions.js';
import { normalizeStripeEvent } from '../../lib/billing/normalize-stripe-event.js';
import type { SubscriptionState } from '../../lib/billing/subscription-state.js';
import { applyCommand } from '../../lib/lifecycle/apply-command.js';
import { issueLicense } from '../../lib/lifecycle/issue-license.js';
import type { License } from '../../lib/lifecycle/license.js';
import type { PlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { withSeats } from '../../lib/plans/plan.js';
import { MongoSubscriptionStateStore } from '../../lib/store/mongo-subscription-state-store.js';
import { uniqueName } from '../setup/services.js';
import type { StripeEventJson } from './stripe-events.js';

/** Options of {@link ProvisioningHarness}. */
export interface ProvisioningHarnessOptions {
  readonly db: Db;
  readonly plans: PlanCatalogue;
  readonly now: Date;
  readonly paymentGraceMs: number;
  readonly renewalGraceMs: number;
}

/** One e-mail the decision asked for, by dedupe key. */
export interface QueuedEmail {
  readonly kind: string;
  /** How many times it was asked for with an address (the outbox keeps the first). */
  readonly requests: number;
}

type Linkable = Exclude<BillingEvent, { type: 'ignored' }>;

/** One subscription's provisioning, played event by event. */
export class ProvisioningHarness {
  readonly store: MongoSubscriptionStateStore;
  license: License | null = null;
  readonly emails = new Map<string, QueuedEmail>();
  /** E-mail kinds that had no address. */
  readonly undelivered = new Set<string>();
  readonly #options: ProvisioningHarnessOptions;

  constructor(options: ProvisioningHarnessOptions) {
    this.#options = options;
    this.store = new MongoSubscriptionStateStore({ db: options.db, collectionPrefix: `${uniqueName('h')}_` });
  }

  /** Delivers events in this order; unlinked ones go back to the end of the line until nothing moves. */
  async deliverAll(events: readonly StripeEventJson[]): Promise<void> {
    let line = [...events];
    while (line.length > 0) {
      const later: StripeEventJson[] = [];
      for (const event of line) if ((await this.deliver(event)) === 'not_linked') later.push(event);
      if (later.length === line.length) throw new Error(`events never linked: ${later.map((e) => e.type).join(', ')}`);
      line = later;
    }
  }

  /** Delivers one event: `not_linked` when its subscription is not known yet. */
  async deliver(raw: StripeEventJson): Promise<'applied' | 'ignored' | 'not_linked'> {
    const normalized = normalizeStripeEvent(JSON.parse(JSON.stringify(raw)));
    if (!normalized.ok) throw new Error(`${raw.type}: ${normalized.message}`);
    const event = normalized.event;
    if (event.type === 'ignored') return 'ignored';
    const subscriptionId = await this.#subscriptionOf(event);
    if (subscriptionId === null) return 'not_linked';
    if (event.type === 'charge_refunded' && !event.fullyRefunded) return 'applied';
    const { now } = this.#options;
    const folded = await this.store.fold(subscriptionId, event, now);
    await this.reconcile(subscriptionId, event.eventId, folded);
    return 'applied';
  }

  /** What the scheduler does next: apply a pending downgrade whose time has come. */
  runScheduler(): void {
    const { now } = this.#options;
    if (this.license?.pendingChange && this.license.pendingChange.effectiveAt.getTime() <= now.getTime()) {
      const applied = applyCommand(this.license, { type: 'apply_pending_change' }, now);
      if (applied.ok) this.license = applied.license;
    }
  }

  async #subscriptionOf(event: Linkable): Promise<string | null> {
    switch (event.type) {
      case 'checkout_completed':
      case 'invoice_paid':
      case 'invoice_payment_failed':
        return event.subscriptionId;
      case 'subscription_changed':
        return event.snapshot.subscriptionId;
      case 'invoice_payment_paid':
        return this.store.subscriptionOfInvoice(event.invoiceId);
      case 'charge_refunded':
      case 'dispute_created':
        return (
          (await this.store.subscriptionOfCharge(event.chargeId)) ??
          (event.paymentIntentId === null ? null : await this.store.subscriptionOfPaymentIntent(event.paymentIntentId)) ??
          (event.type === 'charge_refunded' && event.invoiceId !== null ? await this.store.subscriptionOfInvoice(event.invoiceId) : null)
        );
    }
  }

  /** Brings the license in line with the stored state (`known`: the state a fold just answered). */
  async reconcile(subscriptionId: string, ref: string, known: SubscriptionState | null = null): Promise<void> {
    const { plans, now, paymentGraceMs, renewalGraceMs } = this.#options;
    // Only folds write the state: one read serves every step.
    const state = known ?? (await this.store.get(subscriptionId));
    if (state === null) throw new Error('no state after a fold');
    const trail: string[] = [];
    for (let step = 0; step < 12; step++) {
      const decision = decideBillingActions({ state, license: this.license, plans, now, paymentGraceMs, renewalGraceMs, ref });
      switch (decision.outcome) {
        case 'waiting':
        case 'nothing_to_provision':
          return;
        case 'refused':
          throw new Error(`${decision.code}: ${decision.message}`);
        case 'needs_api_read':
          throw new Error('no Stripe API in this harness');
        case 'settled':
          for (const effect of decision.effects) {
            if (effect.type !== 'email') continue;
            if (state.email === null) {
              this.undelivered.add(effect.kind);
              continue;
            }
            const known = this.emails.get(effect.dedupeKey);
            this.emails.set(effect.dedupeKey, { kind: effect.kind, requests: (known?.requests ?? 0) + 1 });
          }
          return;
        case 'change': {
          const { change } = decision;
          if (change.type === 'issue') {
            const catalogued = plans.get(change.planId);
            if (!catalogued) throw new Error(`no plan ${change.planId}`);
            const plan = change.seats === null ? catalogued : withSeats(catalogued, change.seats);
            const issued = issueLicense(
              {
                id: `lic_${subscriptionId}`,
                keyDigest: subscriptionId,
                keyType: change.keyType,
                product: 'TO',
                plan,
                customerId: null,
                ...(change.trialEndsAt === null ? { periodEndsAt: change.periodEndsAt } : { trial: true, trialEndsAt: change.trialEndsAt }),
              },
              now,
            );
            if (!issued.ok) throw new Error(`issue refused: ${issued.refusal.code}`);
            this.license = issued.license;
            continue;
          }
          if (this.license === null) throw new Error('a command without a license');
          trail.push(JSON.stringify(change.command));
          const applied = applyCommand(this.license, change.command, now);
          if (!applied.ok) throw new Error(`${change.command.type} refused: ${applied.refusal.code} ${applied.refusal.message}`);
          this.license = applied.license;
          continue;
        }
      }
    }
    throw new Error(`did not settle in 12 steps: ${trail.slice(0, 3).join(' | ')} on ${JSON.stringify(this.license)}`);
  }
}

/** The license as compared across delivery orders, times relative to `origin`. */
export function licenseProjection(license: License | null, origin: Date) {
  if (license === null) return null;
  const rel = (date: Date | null) => (date === null ? null : date.getTime() - origin.getTime());
  // Revocation is terminal: the plan and period it froze depend on what came before the refund.
  if (license.status === 'revoked') return { status: license.status, keyType: license.keyType, revocation: license.revocation?.reason ?? null };
  return {
    status: license.status,
    keyType: license.keyType,
    planId: license.planId,
    seats: license.limits.maxActivations,
    pendingPlanId: license.pendingChange?.planId ?? null,
    pendingSeats: license.pendingChange?.limits.maxActivations ?? null,
    periodEndsAt: rel(license.periodEndsAt),
    trialEndsAt: rel(license.trial?.endsAt ?? null),
    cancelAtPeriodEnd: license.cancelAtPeriodEnd,
    suspension: license.suspension?.reason ?? null,
  };
}
