/**
 * One stored Stripe event, applied: read it, find its subscription, fold it into the
 * subscription's state, reconcile the license, and record the outcome on the stored event.
 * Applying the same event twice, or events out of order, ends in the same license.
 */
import type { BillingEvent } from '../../lib/billing/billing-event.js';
import { normalizeStripeEvent } from '../../lib/billing/normalize-stripe-event.js';
import type { MongoStripeEventStore } from '../../lib/store/mongo-stripe-event-store.js';
import { BillingJobError } from './billing-job-error.js';
import { reconcileSubscription, type ReconcileDependencies, type ReconcileResult } from './reconcile-subscription.js';

/** What processing an event needs beside reconciling. */
export interface ProcessEventDependencies extends ReconcileDependencies {
  readonly events: MongoStripeEventStore;
}

/** What processing did, recorded on the event. */
export type ProcessEventResult =
  | { readonly status: 'processed'; readonly subscriptionId: string; readonly outcome: string; readonly reconcile: ReconcileResult | null }
  | { readonly status: 'ignored'; readonly outcome: string };

/** The subscription an event is about (charges are linked through their invoices). */
async function subscriptionOf(deps: ProcessEventDependencies, event: Exclude<BillingEvent, { type: 'ignored' }>): Promise<string> {
  switch (event.type) {
    case 'checkout_completed':
    case 'invoice_paid':
    case 'invoice_payment_failed':
      return event.subscriptionId;
    case 'subscription_changed':
      return event.snapshot.subscriptionId;
    case 'invoice_payment_paid': {
      const linked = (await deps.states.subscriptionOfInvoice(event.invoiceId)) ?? (deps.stripe === null ? null : await deps.stripe.subscriptionOfInvoice(event.invoiceId));
      if (linked !== null) return linked;
      // The invoice event that names the subscription may simply not have been applied yet.
      throw new BillingJobError('INVOICE_NOT_LINKED', `Invoice ${event.invoiceId} is not linked to a known subscription.`, { retry: true });
    }
    case 'charge_refunded':
    case 'dispute_created': {
      const linked =
        (await deps.states.subscriptionOfCharge(event.chargeId)) ??
        (event.paymentIntentId === null ? null : await deps.states.subscriptionOfPaymentIntent(event.paymentIntentId));
      if (linked !== null) return linked;
      let invoiceId = event.type === 'charge_refunded' ? event.invoiceId : null;
      if (invoiceId !== null) {
        const byInvoice = await deps.states.subscriptionOfInvoice(invoiceId);
        if (byInvoice !== null) return byInvoice;
      }
      if (deps.stripe !== null) {
        invoiceId ??= await deps.stripe.invoiceOfCharge(event.chargeId);
        if (invoiceId === null && event.paymentIntentId !== null) invoiceId = await deps.stripe.invoiceOfPaymentIntent(event.paymentIntentId);
        const fromApi = invoiceId === null ? null : await deps.stripe.subscriptionOfInvoice(invoiceId);
        if (fromApi !== null) return fromApi;
      }
      // The invoice event that links the charge may simply not have been applied yet.
      throw new BillingJobError('CHARGE_NOT_LINKED', `Charge ${event.chargeId} is not linked to a known subscription.`, { retry: true });
    }
  }
}

/** Applies one stored event (see the module comment). */
export async function processStripeEvent(deps: ProcessEventDependencies, eventId: string): Promise<ProcessEventResult> {
  const stored = await deps.events.get(eventId);
  if (stored === null) throw new BillingJobError('EVENT_NOT_STORED', `Event ${eventId} is not stored.`, { retry: false });
  let raw: unknown;
  try {
    raw = JSON.parse(stored.body);
  } catch {
    throw new BillingJobError('MALFORMED_EVENT', `Event ${eventId} is not JSON.`, { retry: false });
  }
  const normalized = normalizeStripeEvent(raw);
  if (!normalized.ok) throw new BillingJobError('MALFORMED_EVENT', normalized.message, { retry: false });
  const event = normalized.event;
  if (event.type === 'ignored') return { status: 'ignored', outcome: `${event.why}:${event.stripeType}` };

  const subscriptionId = await subscriptionOf(deps, event);
  if (event.type === 'charge_refunded' && !event.fullyRefunded) {
    return { status: 'processed', subscriptionId, outcome: 'PARTIAL_REFUND', reconcile: null };
  }
  const now = deps.clock();
  // The fold runs under the subscription's lock, so its answer is the current state (no re-read).
  const reconcile = await reconcileSubscription(deps, subscriptionId, event.eventId, async () => {
    const folded = await deps.states.fold(subscriptionId, event, now);
    if (event.type === 'checkout_completed' && event.stripeCustomerId !== null) {
      await deps.customers.findOrCreateByStripeId(event.stripeCustomerId, event.email, now);
    }
    return folded;
  });
  const outcome = reconcile.code ?? (reconcile.changes.length === 0 ? 'unchanged' : reconcile.changes.join(','));
  return { status: 'processed', subscriptionId, outcome, reconcile };
}
