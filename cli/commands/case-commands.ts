/**
 * `keyward cases …` and `keyward reports …`: case review and abuse reports from the command
 * line, on the same services as the admin API. Decisions name the CLI user (`cli:<user>`) in the
 * case and in the license audit trail. `reports create` makes the report in-process (no worker
 * needed), so an operator can get one while the workers are down.
 */
import { open } from 'node:fs/promises';

import type { Db } from 'mongodb';

import type { CaseAction, CaseStatus } from '../../lib/abuse/abuse-case.js';
import { caseCursorOf, parseCaseCursor, summarizeCase } from '../../lib/abuse/case-summary.js';
import { CaseService } from '../../lib/service/case-service.js';
import { licenseView } from '../../lib/service/license-view.js';
import { ReportService } from '../../lib/service/report-service.js';
import { MongoAbuseSignalStore } from '../../lib/store/mongo-abuse-signal-store.js';
import { MongoCaseStore } from '../../lib/store/mongo-case-store.js';
import { MongoReportStore, type StoredReport } from '../../lib/store/mongo-report-store.js';
import type { CliContext } from '../cli-context.js';
import { EXIT, fail, succeed, type ExitCode } from '../cli-output.js';

/** The CLI context with the database the case and report stores live in. */
export type CaseCliContext = CliContext & { readonly db: Db };

const DAY_MS = 86_400_000;

function caseService(ctx: CaseCliContext): CaseService {
  return new CaseService({
    cases: new MongoCaseStore({ db: ctx.db }),
    signals: new MongoAbuseSignalStore({ db: ctx.db }),
    licenses: ctx.keyward.licenses,
    plans: ctx.keyward.plans,
    clock: ctx.clock,
  });
}

const notFound = (ctx: CaseCliContext, what: string, id: string): ExitCode => fail(ctx.err, { code: 'NOT_FOUND', message: `No ${what} "${id}".` });

/** Options of `cases list`. */
export interface ListCasesOptions {
  readonly status?: CaseStatus;
  readonly minScore?: number;
  readonly limit: number;
  readonly after?: string;
}

/** Lists cases, highest score first, as `{ data, nextCursor }`. */
export async function listCases(ctx: CaseCliContext, options: ListCasesOptions): Promise<ExitCode> {
  const after = options.after === undefined ? null : parseCaseCursor(options.after);
  if (options.after !== undefined && after === null) return fail(ctx.err, { code: 'INVALID_REQUEST', message: '--after must be a nextCursor of a previous page.' }, EXIT.usage);
  const found = await caseService(ctx).list({
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.minScore === undefined ? {} : { minScore: options.minScore }),
    ...(after === null ? {} : { after }),
    limit: options.limit + 1,
  });
  const page = found.slice(0, options.limit);
  const last = page.at(-1);
  return succeed(ctx.out, { data: page.map(summarizeCase), nextCursor: found.length > options.limit && last ? caseCursorOf(last) : null });
}

/** Shows one case with its signals and evidence. */
export async function showCase(ctx: CaseCliContext, id: string): Promise<ExitCode> {
  const detail = await caseService(ctx).detail(id);
  if (!detail) return notFound(ctx, 'case', id);
  return succeed(ctx.out, { ...detail.case, currentScore: detail.currentScore, signals: detail.signals });
}

/** Records a decision as the CLI user. */
export async function recordCaseDecision(ctx: CaseCliContext, id: string, options: { readonly action: CaseAction; readonly reason: string }): Promise<ExitCode> {
  const reason = options.reason.trim();
  if (reason.length < 3) return fail(ctx.err, { code: 'INVALID_REQUEST', message: '--reason must say why, in at least 3 characters.' }, EXIT.usage);
  const outcome = await caseService(ctx).decide(id, { action: options.action, reason, reviewer: ctx.actor });
  if (!outcome) return notFound(ctx, 'case', id);
  if (!outcome.ok) return fail(ctx.err, outcome.refusal);
  return succeed(ctx.out, { case: outcome.case, license: outcome.license ? licenseView(outcome.license) : null });
}

function reportMeta(report: StoredReport) {
  const { content: _content, html: _html, csv: _csv, ...meta } = report;
  return meta;
}

/** Makes a report of [from, to) now (default: the 24 hours before now) and prints its id and summary. */
export async function createReport(ctx: CaseCliContext, options: { readonly from?: Date; readonly to?: Date }): Promise<ExitCode> {
  const to = options.to ?? ctx.clock();
  const from = options.from ?? new Date(to.getTime() - DAY_MS);
  if (from.getTime() >= to.getTime()) return fail(ctx.err, { code: 'INVALID_REQUEST', message: '--from must be before --to.' }, EXIT.usage);
  if (to.getTime() - from.getTime() > 366 * DAY_MS) return fail(ctx.err, { code: 'INVALID_REQUEST', message: 'A report covers at most 366 days.' }, EXIT.usage);
  const reports = new MongoReportStore({ db: ctx.db });
  await reports.ensureIndexes();
  const service = new ReportService({ db: ctx.db, reports, clock: ctx.clock });
  const id = await service.request({ from, to, trigger: 'cli', requestedBy: ctx.actor });
  const report = await service.generate(id);
  if (!report) return notFound(ctx, 'report', id);
  return succeed(ctx.out, { ...reportMeta(report), summary: report.content?.summary ?? null });
}

/** Lists reports, newest first, without their content. */
export async function listReports(ctx: CaseCliContext, options: { readonly limit: number }): Promise<ExitCode> {
  const found = await new MongoReportStore({ db: ctx.db }).list({ limit: options.limit });
  return succeed(ctx.out, { data: found.map(reportMeta) });
}

/** Writes a ready report as html, json or csv to `outFile` (created, never overwritten) or stdout. */
export async function getReport(ctx: CaseCliContext, id: string, options: { readonly format: 'html' | 'json' | 'csv'; readonly outFile?: string }): Promise<ExitCode> {
  const report = await new MongoReportStore({ db: ctx.db }).get(id);
  if (!report) return notFound(ctx, 'report', id);
  const text = options.format === 'json' ? (report.content ? `${JSON.stringify(report.content, null, 2)}\n` : null) : report[options.format];
  if (report.status !== 'ready' || text === null) return fail(ctx.err, { code: 'REPORT_NOT_READY', message: `Report "${id}" is ${report.status}.` });
  if (options.outFile === undefined) {
    ctx.out.write(text);
    return EXIT.ok;
  }
  let file;
  try {
    file = await open(options.outFile, 'wx', 0o600);
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
    return fail(ctx.err, { code: exists ? 'FILE_EXISTS' : 'CANNOT_WRITE', message: exists ? `${options.outFile} exists; choose another --out.` : `Cannot create ${options.outFile}.` });
  }
  try {
    await file.writeFile(text, 'utf8');
  } finally {
    await file.close();
  }
  ctx.err.write(`Wrote ${options.outFile}\n`);
  return EXIT.ok;
}
