/** The case review and report routes, described for the OpenAPI document from the schemas that check them. */
import type { OpenApiOperation } from '../openapi.js';
import { caseDecisionBody, createReportBody, listCasesQuery, listReportsQuery, reportQuery } from './admin-case-schemas.js';

const tags = ['abuse'];
const errors = { '400': 'Error', '401': 'Error', '403': 'Error', '404': 'Error', '409': 'Error', '422': 'Error' };

/** Every case and report route. */
export const ADMIN_CASE_OPERATIONS: readonly OpenApiOperation[] = [
  { method: 'get', path: '/v1/admin/cases', summary: 'Abuse cases, highest score first, by status and minimum score, with cursor pagination.', tags, admin: 'read', query: listCasesQuery, responses: { '200': 'Object', ...errors } },
  { method: 'get', path: '/v1/admin/cases/:id', summary: 'One case: timeline, decisions, score now, and its signals with their evidence.', tags, admin: 'read', responses: { '200': 'Object', ...errors } },
  { method: 'post', path: '/v1/admin/cases/:id/decisions', summary: 'Dismiss a case, or suspend (abuse_hold) / revoke (abuse) its license; recorded on the case and in the license audit trail.', tags, admin: 'write', body: caseDecisionBody, responses: { '200': 'Object', ...errors } },
  { method: 'post', path: '/v1/admin/reports', summary: 'Ask for an abuse report of a period; a worker makes it (202, poll its id).', tags, admin: 'write', body: createReportBody, responses: { '202': 'Object', ...errors } },
  { method: 'get', path: '/v1/admin/reports', summary: 'Abuse reports, newest first.', tags, admin: 'read', query: listReportsQuery, responses: { '200': 'Object', ...errors } },
  { method: 'get', path: '/v1/admin/reports/:id', summary: 'A report’s status, or with ?format=html|json|csv the report itself as a download.', tags, admin: 'read', query: reportQuery, responses: { '200': 'Object', ...errors } },
];
