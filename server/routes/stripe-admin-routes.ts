/**
 * The Stripe admin routes: list stored events by status (the dead letters are `failed`), read
 * one, and replay one (its job is queued again under a fresh job id; processing is idempotent,
 * so replaying a processed event changes nothing). Read scope for GET, write for the replay.
 */
import type { Router, RouterContext } from '@koa/router';

import type { MongoStripeEventStore, StripeEventDocument } from '../../lib/store/mongo-stripe-event-store.js';
import type { AdminAuth } from '../auth/admin-auth.js';
import { ApiError } from '../http/api-error.js';
import { parseBody, parseQuery } from '../http/parse-body.js';
import { listStripeEventsQuery, replayStripeEventBody } from './stripe-admin-schemas.js';

/** What the routes need. */
export interface StripeAdminRoutesOptions {
  readonly events: MongoStripeEventStore;
  readonly auth: AdminAuth;
  /** Queues a replay of the event under the given job id. */
  readonly replay: (eventId: string, jobId: string) => Promise<void>;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

const BASE = '/v1/admin/stripe/events';

/** An event as the admin API shows it (the body stays stored: it carries customer details). */
export function stripeEventView(event: StripeEventDocument) {
  return {
    id: event._id,
    type: event.type,
    created: event.created.toISOString(),
    livemode: event.livemode,
    status: event.status,
    attempts: event.attempts,
    error: event.error,
    outcome: event.outcome,
    subscriptionId: event.subscriptionId,
    undeliveredEmails: event.undeliveredEmails ?? [],
    receivedAt: event.receivedAt.toISOString(),
    processedAt: event.processedAt?.toISOString() ?? null,
  };
}

/** Adds the Stripe admin routes. */
export function addStripeAdminRoutes(router: Router, options: StripeAdminRoutesOptions): void {
  const { events, auth, replay } = options;
  const clock = options.clock ?? (() => new Date());
  const find = async (ctx: RouterContext): Promise<StripeEventDocument> => {
    const id = ctx.params['id'] ?? '';
    const event = id.length > 255 ? null : await events.get(id);
    if (!event) throw new ApiError('NOT_FOUND', `No stored Stripe event "${id.slice(0, 255)}".`);
    return event;
  };

  router.get(BASE, auth.requireAdmin('read'), async (ctx) => {
    const query = parseQuery(listStripeEventsQuery, ctx);
    const page = await events.list(query);
    ctx.body = { events: page.map(stripeEventView), nextCursor: page.length === query.limit ? (page.at(-1)?._id ?? null) : null };
  });

  router.get(`${BASE}/:id`, auth.requireAdmin('read'), async (ctx) => {
    ctx.body = stripeEventView(await find(ctx));
  });

  router.post(`${BASE}/:id/replay`, auth.requireAdmin('write'), async (ctx) => {
    parseBody(replayStripeEventBody, ctx);
    const event = await find(ctx);
    const now = clock();
    await events.markReplayed(event._id, now);
    await replay(event._id, `${event._id}-replay-${now.getTime()}`);
    ctx.status = 202;
    ctx.body = { replayed: true, event: stripeEventView({ ...event, status: 'queued', error: null }) };
  });
}
