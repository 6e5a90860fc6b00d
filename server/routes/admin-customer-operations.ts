/** The customer and e-mail admin routes, described for the OpenAPI document from the schemas that check them. */
import type { OpenApiOperation } from '../openapi.js';
import { customerLicensesQuery, listEmailsQuery, resendKeyBody } from './admin-customer-schemas.js';
import { emptyBody } from './admin-schemas.js';

const tags = ['admin'];
const errors = { '400': 'Error', '401': 'Error', '403': 'Error', '404': 'Error' };

/** Every route of admin-customer-routes.ts. */
export const ADMIN_CUSTOMER_OPERATIONS: readonly OpenApiOperation[] = [
  {
    method: 'get',
    path: '/v1/admin/customers/:customerId/licenses',
    summary: "A customer's licenses (masked keys), with cursor pagination.",
    tags,
    admin: 'read',
    query: customerLicensesQuery,
    responses: { '200': 'Object', ...errors },
  },
  {
    method: 'post',
    path: '/v1/admin/licenses/:id/resend-key',
    summary: "E-mail the key again: to `to`, or to the address of the license's latest key delivery (400 RECIPIENT_REQUIRED if there is none). Answers 202 with the outbox id.",
    tags,
    admin: 'write',
    body: resendKeyBody,
    responses: { '202': 'Object', ...errors, '409': 'Error' },
  },
  {
    method: 'get',
    path: '/v1/admin/emails',
    summary: 'Outbox e-mails by status, license or customer, newest first (never a key).',
    tags,
    admin: 'read',
    query: listEmailsQuery,
    responses: { '200': 'Object', ...errors },
  },
  {
    method: 'post',
    path: '/v1/admin/emails/:emailId/retry',
    summary: 'Queue a failed e-mail again, with fresh attempts (e.g. after fixing SMTP_URL). Answers 202 with the e-mail.',
    tags,
    admin: 'write',
    body: emptyBody,
    responses: { '202': 'Object', ...errors },
  },
];
