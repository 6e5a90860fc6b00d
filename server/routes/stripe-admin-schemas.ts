/** Query strings of the Stripe admin routes, shared by the routes and the OpenAPI document. */
import { z } from 'zod';

import { STRIPE_EVENT_STATUSES } from '../../lib/store/mongo-stripe-event-store.js';

/** GET /v1/admin/stripe/events */
export const listStripeEventsQuery = z.strictObject({
  status: z.enum(STRIPE_EVENT_STATUSES).optional().describe('`failed` lists the dead letters.'),
  type: z.string().min(1).max(128).optional().describe('Stripe event type, e.g. `invoice.paid`.'),
  undelivered: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('`true` lists events whose processing left an e-mail without an address (e.g. a Checkout without a customer e-mail).'),
  after: z.string().min(1).max(255).optional().describe('Cursor: the previous page’s `nextCursor`.'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** POST /v1/admin/stripe/events/:id/replay */
export const replayStripeEventBody = z.strictObject({});
