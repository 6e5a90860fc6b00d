/** The webhook endpoint routes, described for the OpenAPI document from the schemas that check them. */
import type { OpenApiOperation } from '../openapi.js';
import { createWebhookBody, listDeliveriesQuery, listWebhooksQuery, rotateSecretBody, updateWebhookBody } from './admin-webhook-schemas.js';

const tags = ['webhooks'];
const errors = { '400': 'Error', '401': 'Error', '403': 'Error', '404': 'Error' };

/** Every webhook route. */
export const ADMIN_WEBHOOK_OPERATIONS: readonly OpenApiOperation[] = [
  { method: 'post', path: '/v1/admin/webhooks', summary: 'Add a webhook endpoint; the answer holds its signing secret, shown this once.', tags, admin: 'write', body: createWebhookBody, responses: { '201': 'Object', ...errors } },
  { method: 'get', path: '/v1/admin/webhooks', summary: 'Webhook endpoints; ?enabled=false lists the disabled ones, with why (manual, or failing).', tags, admin: 'read', query: listWebhooksQuery, responses: { '200': 'Object', ...errors } },
  { method: 'get', path: '/v1/admin/webhooks/:id', summary: 'One endpoint, its secrets’ dates (never the secrets) and its deliveries per status.', tags, admin: 'read', responses: { '200': 'Object', ...errors } },
  { method: 'post', path: '/v1/admin/webhooks/:id', summary: 'Change an endpoint’s URL, description, event types, or enable / disable it.', tags, admin: 'write', body: updateWebhookBody, responses: { '200': 'Object', ...errors } },
  { method: 'post', path: '/v1/admin/webhooks/:id/rotate-secret', summary: 'New signing secret (shown once); the previous one keeps signing during the overlap.', tags, admin: 'write', body: rotateSecretBody, responses: { '200': 'Object', ...errors } },
  { method: 'get', path: '/v1/admin/webhooks/:id/deliveries', summary: 'The delivery log of an endpoint, newest first: status, attempts, latency, response codes.', tags, admin: 'read', query: listDeliveriesQuery, responses: { '200': 'Object', ...errors } },
  { method: 'post', path: '/v1/admin/webhooks/:id/deliveries/:deliveryId/redeliver', summary: 'Send a delivery again now, with a fresh attempt budget.', tags, admin: 'write', responses: { '202': 'Object', ...errors } },
];
