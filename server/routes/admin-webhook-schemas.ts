/**
 * Request bodies and query strings of the webhook endpoint routes, shared by the routes and
 * the OpenAPI document. Strict, like the other admin schemas.
 */
import { z } from 'zod';

import { DELIVERY_STATUSES } from '../../lib/store/mongo-webhook-outbox.js';
import { WEBHOOK_EVENT_TYPES } from '../../lib/webhooks/webhook-event.js';

const url = z.string().trim().min(1).max(2_048).describe('Where events are POSTed: https:// (http:// to loopback only when WEBHOOK_ALLOW_LOOPBACK is set).');
const description = z.string().trim().max(500).describe('What the endpoint is for, for people.');
const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .nullable()
  .describe('Event types to send; null or absent for all.');
const enabled = z.boolean().describe('Disabled endpoints get no new events; their pending deliveries wait.');

/** POST /v1/admin/webhooks */
export const createWebhookBody = z.strictObject({
  url,
  description: description.optional(),
  eventTypes: eventTypes.optional(),
  enabled: enabled.optional(),
});

/** POST /v1/admin/webhooks/:id */
export const updateWebhookBody = z
  .strictObject({ url: url.optional(), description: description.optional(), eventTypes: eventTypes.optional(), enabled: enabled.optional() })
  .refine((body) => Object.keys(body).length > 0, { message: 'give at least one of url, description, eventTypes, enabled' });

/** Longest overlap of a rotation: 7 days. */
export const MAX_ROTATION_OVERLAP_SECONDS = 604_800;

/** POST /v1/admin/webhooks/:id/rotate-secret */
export const rotateSecretBody = z.strictObject({
  overlapSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_ROTATION_OVERLAP_SECONDS)
    .default(86_400)
    .describe('How long the previous secret keeps signing beside the new one. Default 86400 (a day); 0 retires it at once.'),
});

/** GET /v1/admin/webhooks */
export const listWebhooksQuery = z.strictObject({
  enabled: z.enum(['true', 'false']).optional().describe('Only enabled (true) or disabled (false) endpoints, e.g. those disabled for failing.'),
});

/** GET /v1/admin/webhooks/:id/deliveries */
export const listDeliveriesQuery = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional().describe('Only deliveries in this state.'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe("The previous page's `nextCursor`."),
});
