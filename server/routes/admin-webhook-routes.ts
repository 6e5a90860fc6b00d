/**
 * Webhook endpoints under `/v1/admin/webhooks`: create (the signing secret is in this answer
 * only), list (disabled ones say why), show, change, rotate the secret with an overlap, and the
 * delivery log per endpoint with manual redelivery. Read scope for GET, write for the rest.
 */
import type { Router, RouterContext } from '@koa/router';

import type { MongoWebhookEndpointStore } from '../../lib/store/mongo-webhook-endpoint-store.js';
import { webhookEndpointView } from '../../lib/store/mongo-webhook-endpoint-store.js';
import type { DeliveryDocument, MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import { checkEndpointUrl, type AddressPolicy } from '../../lib/webhooks/address-policy.js';
import type { AdminAuth } from '../auth/admin-auth.js';
import { ApiError } from '../http/api-error.js';
import { parseBody, parseQuery } from '../http/parse-body.js';
import { createWebhookBody, listDeliveriesQuery, listWebhooksQuery, rotateSecretBody, updateWebhookBody } from './admin-webhook-schemas.js';

/** What the webhook routes need. */
export interface AdminWebhookRoutesOptions {
  readonly endpoints: MongoWebhookEndpointStore;
  readonly outbox: MongoWebhookOutbox;
  /** Where endpoints may point. Required. */
  readonly policy: AddressPolicy;
  readonly auth: AdminAuth;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

const MAX_ID_LENGTH = 200;

function param(ctx: RouterContext, name: string, what: string): string {
  const value = ctx.params[name] ?? '';
  if (value.length > MAX_ID_LENGTH) throw new ApiError('NOT_FOUND', `No ${what} "${value.slice(0, MAX_ID_LENGTH)}".`);
  return value;
}

/** Refuses a URL the policy does not allow, with its specific reason in `details.reason`. */
function requireAllowedUrl(url: string, policy: AddressPolicy): void {
  const check = checkEndpointUrl(url, policy);
  if (!check.allowed) throw new ApiError('INVALID_REQUEST', `url: ${check.message}`, { reason: check.code, issues: [{ path: 'url', message: check.message }] });
}

/** A delivery as shown: its log, never the payload's secrets (there are none) nor the lease. */
function deliveryView(delivery: DeliveryDocument) {
  return {
    id: delivery._id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt : null,
    lastAttempt: delivery.lastAttempt,
    attemptLog: delivery.attemptLog,
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
  };
}

/** Adds the webhook routes to a router. */
export function addAdminWebhookRoutes(router: Router, options: AdminWebhookRoutesOptions): void {
  const { endpoints, outbox, policy, auth } = options;
  const clock = options.clock ?? (() => new Date());
  const read = auth.requireAdmin('read');
  const write = auth.requireAdmin('write');

  const endpointOf = async (ctx: RouterContext) => {
    const id = param(ctx, 'id', 'webhook endpoint');
    const endpoint = await endpoints.get(id);
    if (!endpoint) throw new ApiError('NOT_FOUND', `No webhook endpoint "${id}".`);
    return endpoint;
  };

  router.post('/v1/admin/webhooks', write, async (ctx) => {
    const body = parseBody(createWebhookBody, ctx);
    requireAllowedUrl(body.url, policy);
    const { endpoint, secret } = await endpoints.create(
      {
        url: body.url,
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.eventTypes === undefined ? {} : { eventTypes: body.eventTypes }),
        ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
      },
      clock(),
    );
    ctx.status = 201;
    ctx.set('location', `/v1/admin/webhooks/${endpoint._id}`);
    ctx.set('cache-control', 'no-store');
    ctx.body = { endpoint: webhookEndpointView(endpoint), secret };
  });

  router.get('/v1/admin/webhooks', read, async (ctx) => {
    const query = parseQuery(listWebhooksQuery, ctx);
    const found = await endpoints.list(query.enabled === undefined ? {} : { enabled: query.enabled === 'true' });
    ctx.body = { data: found.map(webhookEndpointView) };
  });

  router.get('/v1/admin/webhooks/:id', read, async (ctx) => {
    const endpoint = await endpointOf(ctx);
    ctx.body = { ...webhookEndpointView(endpoint), deliveries: await outbox.countByStatus(endpoint._id) };
  });

  router.post('/v1/admin/webhooks/:id', write, async (ctx) => {
    const body = parseBody(updateWebhookBody, ctx);
    const id = param(ctx, 'id', 'webhook endpoint');
    if (body.url !== undefined) requireAllowedUrl(body.url, policy);
    const updated = await endpoints.update(
      id,
      {
        ...(body.url === undefined ? {} : { url: body.url }),
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.eventTypes === undefined ? {} : { eventTypes: body.eventTypes }),
        ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
      },
      clock(),
    );
    if (!updated) throw new ApiError('NOT_FOUND', `No webhook endpoint "${id}".`);
    ctx.body = webhookEndpointView(updated);
  });

  router.post('/v1/admin/webhooks/:id/rotate-secret', write, async (ctx) => {
    const body = parseBody(rotateSecretBody, ctx);
    const id = param(ctx, 'id', 'webhook endpoint');
    const rotated = await endpoints.rotateSecret(id, body.overlapSeconds * 1000, clock());
    if (!rotated) throw new ApiError('NOT_FOUND', `No webhook endpoint "${id}".`);
    ctx.set('cache-control', 'no-store');
    ctx.body = { endpoint: webhookEndpointView(rotated.endpoint), secret: rotated.secret };
  });

  router.get('/v1/admin/webhooks/:id/deliveries', read, async (ctx) => {
    const query = parseQuery(listDeliveriesQuery, ctx);
    const endpoint = await endpointOf(ctx);
    const page = await outbox.list({
      endpointId: endpoint._id,
      limit: query.limit,
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    });
    ctx.body = { data: page.data.map(deliveryView), nextCursor: page.nextCursor };
  });

  router.post('/v1/admin/webhooks/:id/deliveries/:deliveryId/redeliver', write, async (ctx) => {
    const endpoint = await endpointOf(ctx);
    const deliveryId = param(ctx, 'deliveryId', 'delivery');
    const existing = await outbox.get(deliveryId);
    if (existing?.endpointId !== endpoint._id) throw new ApiError('NOT_FOUND', `No delivery "${deliveryId}" for endpoint "${endpoint._id}".`);
    const queued = await outbox.redeliver(deliveryId, clock());
    if (!queued) throw new ApiError('NOT_FOUND', `No delivery "${deliveryId}".`);
    ctx.status = 202;
    ctx.body = { ...deliveryView(queued), ...(endpoint.enabled ? {} : { note: 'The endpoint is disabled: the delivery waits until it is enabled.' }) };
  });
}
