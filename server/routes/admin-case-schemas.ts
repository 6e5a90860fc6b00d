/**
 * Request bodies and query strings of the case review and report routes, shared by the routes
 * and the OpenAPI document. Strict, like the other admin schemas.
 */
import { z } from 'zod';

import { CASE_ACTIONS, CASE_STATUSES } from '../../lib/abuse/abuse-case.js';

const isoDateTime = z.iso.datetime({ offset: true });
const pageSize = (defaultSize: number) => z.coerce.number().int().min(1).max(500).default(defaultSize);

/** Longest period one report covers: 366 days. */
export const MAX_REPORT_SPAN_MS = 366 * 86_400_000;

/** GET /v1/admin/cases */
export const listCasesQuery = z.strictObject({
  status: z.enum(CASE_STATUSES).optional().describe('Only cases in this review state.'),
  minScore: z.coerce.number().int().min(0).max(100).optional().describe('Only cases scoring at least this (score as of their last change).'),
  limit: pageSize(50),
  after: z
    .string()
    .regex(/^\d{1,3}\.case_[0-9a-z_]{1,80}$/, "must be the previous page's nextCursor")
    .optional()
    .describe("The previous page's `nextCursor`."),
});

/** POST /v1/admin/cases/:id/decisions */
export const caseDecisionBody = z.strictObject({
  action: z.enum(CASE_ACTIONS).describe('dismiss the case, or suspend (abuse_hold) / revoke (abuse) its license.'),
  reason: z.string().trim().min(3).max(1_000).describe('Why: recorded on the case and in the license audit trail.'),
});

/** POST /v1/admin/reports */
export const createReportBody = z
  .strictObject({
    from: isoDateTime.optional().describe('Start of the period (ISO 8601). Default: 24 hours before `to`.'),
    to: isoDateTime.optional().describe('End of the period, exclusive (ISO 8601). Default: now.'),
  })
  .refine(({ from, to }) => from === undefined || to === undefined || Date.parse(from) < Date.parse(to), { message: 'from must be before to', path: ['from'] })
  .refine(({ from, to }) => from === undefined || to === undefined || Date.parse(to) - Date.parse(from) <= MAX_REPORT_SPAN_MS, {
    message: 'a report covers at most 366 days',
    path: ['to'],
  });

/** GET /v1/admin/reports */
export const listReportsQuery = z.strictObject({
  limit: pageSize(20),
  cursor: z.string().regex(/^rpt_[0-9a-z_-]{1,60}$/).optional().describe("The previous page's `nextCursor`."),
});

/** GET /v1/admin/reports/:id */
export const reportQuery = z.strictObject({
  format: z.enum(['html', 'json', 'csv']).optional().describe('Download the report in this format; without it, its status and period.'),
});
