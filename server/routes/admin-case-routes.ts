/**
 * Case review and abuse reports under `/v1/admin`: list cases by score, show one with its
 * signals and evidence, record decisions (through the license service, so the license audit
 * trail names the admin token and the reason), ask for reports and download them. Read scope
 * for GET, write scope for decisions and report requests.
 */
import type { Router, RouterContext } from '@koa/router';

import { caseCursorOf, parseCaseCursor, summarizeCase } from '../../lib/abuse/case-summary.js';
import { licenseView } from '../../lib/service/license-view.js';
import type { CaseService } from '../../lib/service/case-service.js';
import type { ReportService } from '../../lib/service/report-service.js';
import type { MongoReportStore, StoredReport } from '../../lib/store/mongo-report-store.js';
import { adminOf, type AdminAuth } from '../auth/admin-auth.js';
import { ApiError } from '../http/api-error.js';
import { parseBody, parseQuery } from '../http/parse-body.js';
import { caseDecisionBody, createReportBody, listCasesQuery, listReportsQuery, reportQuery } from './admin-case-schemas.js';

/** What the case and report routes need. */
export interface AdminCaseRoutesOptions {
  readonly cases: CaseService;
  readonly reports: ReportService;
  readonly reportStore: MongoReportStore;
  /** Queues the job that fills a pending report (a BullMQ `generate-report` job). */
  readonly enqueueReport: (reportId: string) => Promise<void>;
  readonly auth: AdminAuth;
  /** Clock, for default report periods. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/** Ids are short; anything much longer is not looked up. */
const MAX_ID_LENGTH = 100;
const DAY_MS = 86_400_000;

const FORMATS = {
  html: { type: 'text/html; charset=utf-8', field: 'html' },
  json: { type: 'application/json; charset=utf-8', field: 'content' },
  csv: { type: 'text/csv; charset=utf-8; header=present', field: 'csv' },
} as const;

function idOf(ctx: RouterContext, what: string): string {
  const id = ctx.params['id'] ?? '';
  if (id.length > MAX_ID_LENGTH) throw new ApiError('NOT_FOUND', `No ${what} "${id.slice(0, MAX_ID_LENGTH)}".`);
  return id;
}

function reportMeta(report: StoredReport) {
  return {
    id: report.id,
    status: report.status,
    trigger: report.trigger,
    period: report.period,
    requestedBy: report.requestedBy,
    createdAt: report.createdAt,
    completedAt: report.completedAt,
    error: report.error,
    formats: report.status === 'ready' ? Object.keys(FORMATS) : [],
  };
}

/** Adds the case and report routes to a router. */
export function addAdminCaseRoutes(router: Router, options: AdminCaseRoutesOptions): void {
  const { cases, reports, reportStore, auth } = options;
  const clock = options.clock ?? (() => new Date());
  const read = auth.requireAdmin('read');
  const write = auth.requireAdmin('write');
  const actorOf = (ctx: RouterContext): string => `admin:${adminOf(ctx).tokenId}`;

  router.get('/v1/admin/cases', read, async (ctx) => {
    const query = parseQuery(listCasesQuery, ctx);
    const after = query.after === undefined ? null : parseCaseCursor(query.after);
    const found = await cases.list({
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.minScore === undefined ? {} : { minScore: query.minScore }),
      ...(after === null ? {} : { after }),
      limit: query.limit + 1,
    });
    const page = found.slice(0, query.limit);
    const last = page.at(-1);
    ctx.body = { data: page.map(summarizeCase), nextCursor: found.length > query.limit && last ? caseCursorOf(last) : null };
  });

  router.get('/v1/admin/cases/:id', read, async (ctx) => {
    const id = idOf(ctx, 'case');
    const detail = await cases.detail(id);
    if (!detail) throw new ApiError('NOT_FOUND', `No case "${id}".`);
    ctx.body = { ...detail.case, currentScore: detail.currentScore, signals: detail.signals };
  });

  router.post('/v1/admin/cases/:id/decisions', write, async (ctx) => {
    const body = parseBody(caseDecisionBody, ctx);
    const id = idOf(ctx, 'case');
    const outcome = await cases.decide(id, { action: body.action, reason: body.reason, reviewer: actorOf(ctx), ref: String(ctx.state['requestId']) });
    if (!outcome) throw new ApiError('NOT_FOUND', `No case "${id}".`);
    if (!outcome.ok) throw new ApiError(outcome.refusal.code, outcome.refusal.message, { ...outcome.refusal.details });
    ctx.body = { case: outcome.case, license: outcome.license ? licenseView(outcome.license) : null };
  });

  router.post('/v1/admin/reports', write, async (ctx) => {
    const body = parseBody(createReportBody, ctx);
    const to = body.to === undefined ? clock() : new Date(body.to);
    const from = body.from === undefined ? new Date(to.getTime() - DAY_MS) : new Date(body.from);
    if (from.getTime() >= to.getTime()) throw new ApiError('INVALID_REQUEST', 'from must be before to.', { issues: [{ path: 'from', message: 'must be before to' }] });
    const id = await reports.request({ from, to, trigger: 'api', requestedBy: actorOf(ctx) });
    await options.enqueueReport(id);
    ctx.status = 202;
    ctx.set('location', `/v1/admin/reports/${id}`);
    ctx.body = { id, status: 'pending', period: { from, to } };
  });

  router.get('/v1/admin/reports', read, async (ctx) => {
    const query = parseQuery(listReportsQuery, ctx);
    const cursor = query.cursor === undefined ? null : await reportStore.get(query.cursor);
    const found = await reportStore.list({ limit: query.limit + 1, ...(cursor ? { before: { createdAt: cursor.createdAt, id: cursor.id } } : {}) });
    const page = found.slice(0, query.limit);
    ctx.body = { data: page.map(reportMeta), nextCursor: found.length > query.limit ? (page.at(-1)?.id ?? null) : null };
  });

  router.get('/v1/admin/reports/:id', read, async (ctx) => {
    const query = parseQuery(reportQuery, ctx);
    const id = idOf(ctx, 'report');
    const report = await reportStore.get(id);
    if (!report) throw new ApiError('NOT_FOUND', `No report "${id}".`);
    if (query.format === undefined) {
      ctx.body = reportMeta(report);
      return;
    }
    const format = FORMATS[query.format];
    const payload = report[format.field];
    if (report.status !== 'ready' || payload === null) {
      throw new ApiError('REPORT_NOT_READY', `Report "${id}" is ${report.status}; download it once it is ready.`, { status: report.status });
    }
    ctx.set('content-type', format.type);
    ctx.set('content-disposition', `attachment; filename="${report.id}.${query.format}"`);
    ctx.set('x-content-type-options', 'nosniff');
    // The HTML carries no scripts or external assets; the policy keeps it that way if opened in place.
    ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox");
    ctx.body = typeof payload === 'string' ? payload : JSON.stringify(payload, null, 2);
  });
}
