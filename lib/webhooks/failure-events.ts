/**
 * The webhook events of things that failed for good: an e-mail the outbox gave up on, and a
 * Stripe event whose processing was dead-lettered. Pure; the stores record them in the same
 * write that marks the failure.
 */
import { webhookEventId, type WebhookEvent } from './webhook-event.js';

/** `email.failed`: `attemptRef` names this failure (the claim that failed), so the same failure keeps its id. */
export function emailFailedEvent(emailId: string, attemptRef: string, at: Date, email: Readonly<Record<string, unknown>>): WebhookEvent {
  return { id: webhookEventId(emailId, attemptRef, 'email.failed'), type: 'email.failed', occurredAt: at, data: { email } };
}

/** `stripe_event.failed`: the Stripe event as the admin API shows it (never its body, which carries customer details). */
export function stripeEventFailedEvent(stripeEventId: string, attempt: number, at: Date, stripeEvent: Readonly<Record<string, unknown>>): WebhookEvent {
  return { id: webhookEventId(stripeEventId, attempt, 'stripe_event.failed'), type: 'stripe_event.failed', occurredAt: at, data: { stripeEvent } };
}
