/** The Stripe routes, described for the OpenAPI document. */
import type { OpenApiOperation } from '../openapi.js';
import { listStripeEventsQuery, replayStripeEventBody } from './stripe-admin-schemas.js';
import { STRIPE_WEBHOOK_PATH } from './stripe-webhook.js';

const errors = { '400': 'Error', '401': 'Error', '403': 'Error', '404': 'Error' };

/** Every Stripe route. */
export const STRIPE_OPERATIONS: readonly OpenApiOperation[] = [
  {
    method: 'post',
    path: STRIPE_WEBHOOK_PATH,
    summary: 'Stripe webhook: verifies the Stripe-Signature header on the raw body, stores the event once and queues it.',
    tags: ['stripe'],
    responses: { '200': 'Object', '400': 'Error', '413': 'Error', '503': 'Error' },
  },
  { method: 'get', path: '/v1/admin/stripe/events', summary: 'Stored Stripe events by status (`failed`: the dead letters).', tags: ['admin'], admin: 'read', query: listStripeEventsQuery, responses: { '200': 'Object', ...errors } },
  { method: 'get', path: '/v1/admin/stripe/events/:id', summary: 'One stored Stripe event: status, attempts, last error, outcome.', tags: ['admin'], admin: 'read', responses: { '200': 'Object', ...errors } },
  { method: 'post', path: '/v1/admin/stripe/events/:id/replay', summary: 'Queue a stored Stripe event again (idempotent).', tags: ['admin'], admin: 'write', body: replayStripeEventBody, responses: { '202': 'Object', ...errors } },
];
