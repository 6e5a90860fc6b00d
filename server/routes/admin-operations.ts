/** The admin API, described for the OpenAPI document from the schemas that check it. */
import type { OpenApiOperation } from '../openapi.js';
import {
  auditQuery,
  changePlanBody,
  emptyBody,
  issueLicensesBody,
  listLicensesQuery,
  reinstateBody,
  renewBody,
  revokeBody,
  suspendBody,
  usageQuery,
} from './admin-schemas.js';

const BASE = '/v1/admin/licenses';
const tags = ['admin'];
const errors = { '400': 'Error', '401': 'Error', '403': 'Error', '404': 'Error', '409': 'Error', '422': 'Error' };

const command = (action: string, summary: string, body: OpenApiOperation['body']): OpenApiOperation => ({
  method: 'post',
  path: `${BASE}/:id/${action}`,
  summary,
  tags,
  admin: 'write',
  ...(body ? { body } : {}),
  responses: { '200': 'Object', ...errors },
});

/** Every admin route. */
export const ADMIN_OPERATIONS: readonly OpenApiOperation[] = [
  { method: 'post', path: BASE, summary: 'Create licenses (one or many); the plain keys are shown only in this answer.', tags, admin: 'write', body: issueLicensesBody, responses: { '201': 'Object', ...errors } },
  { method: 'get', path: BASE, summary: 'List licenses by status, customer, plan or product, with cursor pagination.', tags, admin: 'read', query: listLicensesQuery, responses: { '200': 'Object', ...errors } },
  { method: 'get', path: `${BASE}/:id`, summary: 'One license (masked key).', tags, admin: 'read', responses: { '200': 'Object', ...errors } },
  { method: 'get', path: `${BASE}/:id/audit`, summary: 'Audit trail: who did what, when, and why.', tags, admin: 'read', query: auditQuery, responses: { '200': 'Object', ...errors } },
  { method: 'get', path: `${BASE}/:id/usage`, summary: 'Validations counted in a month, beside the quota.', tags, admin: 'read', query: usageQuery, responses: { '200': 'Object', ...errors } },
  command('suspend', 'Suspend (abuse hold, manual, …).', suspendBody),
  command('reinstate', 'Lift a suspension.', reinstateBody),
  command('revoke', 'Revoke for good.', revokeBody),
  command('renew', 'Extend the period.', renewBody),
  command('change-plan', 'Upgrade now, or downgrade at the period end.', changePlanBody),
  command('cancel', 'Cancel at the period end.', emptyBody),
  command('resume', 'Withdraw a cancellation.', emptyBody),
  command('reveal-key', 'Show the plain key to its owner (audited in the log).', emptyBody),
];
