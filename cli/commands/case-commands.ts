/**
 * `keyward cases …` and `keyward reports …` over the admin API: case review and abuse reports
 * from a terminal. Decisions are recorded as the token's holder (`admin:<token id>`), the same as
 * the console's. `reports create` asks the server for a report (the worker makes it) and waits
 * for it, unless told not to.
 */
import { open } from 'node:fs/promises';

import type { CaseAction, CaseStatus } from '../../lib/abuse/abuse-case.js';
import { queryOf } from '../admin-api-client.js';
import type { CliContext } from '../cli-context.js';
import { EXIT, fail, report, succeed, type ExitCode } from '../cli-output.js';

/** Options of `cases list`. */
export interface ListCasesOptions {
  readonly status?: CaseStatus;
  readonly minScore?: number;
  readonly limit: number;
  readonly after?: string;
}

/** Lists cases, highest score first, as `{ data, nextCursor }`. */
export async function listCases(ctx: CliContext, options: ListCasesOptions): Promise<ExitCode> {
  return report(ctx, await ctx.api.get(`/v1/admin/cases${queryOf({ status: options.status, minScore: options.minScore, limit: options.limit, after: options.after })}`));
}

/** Shows one case with its signals and evidence. */
export async function showCase(ctx: CliContext, id: string): Promise<ExitCode> {
  return report(ctx, await ctx.api.get(`/v1/admin/cases/${encodeURIComponent(id)}`));
}

/** Records a decision as the token's holder. */
export async function recordCaseDecision(ctx: CliContext, id: string, options: { readonly action: CaseAction; readonly reason: string }): Promise<ExitCode> {
  const reason = options.reason.trim();
  if (reason.length < 3) return fail(ctx.err, { code: 'INVALID_REQUEST', message: '--reason must say why, in at least 3 characters.' }, EXIT.usage);
  return report(ctx, await ctx.api.post(`/v1/admin/cases/${encodeURIComponent(id)}/decisions`, { action: options.action, reason }));
}

/** Options of `reports create`. */
export interface CreateReportOptions {
  readonly from?: Date;
  readonly to?: Date;
  /** Wait until the worker made it. Default true. */
  readonly wait?: boolean;
  /** Longest wait, in ms. Default 120,000. */
  readonly waitMs?: number;
}

interface ReportMeta {
  readonly id: string;
  readonly status: 'pending' | 'ready' | 'failed';
  readonly error?: string | null;
}

/** Asks for a report of [from, to) (default: the 24 hours before now); prints it once ready (or at once with `wait: false`). */
export async function createReport(ctx: CliContext, options: CreateReportOptions): Promise<ExitCode> {
  if (options.from && options.to && options.from.getTime() >= options.to.getTime()) {
    return fail(ctx.err, { code: 'INVALID_REQUEST', message: '--from must be before --to.' }, EXIT.usage);
  }
  const asked = await ctx.api.post<ReportMeta>('/v1/admin/reports', {
    ...(options.from ? { from: options.from.toISOString() } : {}),
    ...(options.to ? { to: options.to.toISOString() } : {}),
  });
  if (!asked.ok) return fail(ctx.err, asked.error);
  if (options.wait === false) return succeed(ctx.out, asked.body);
  const pause = ctx.pause ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = ctx.clock().getTime() + (options.waitMs ?? 120_000);
  for (;;) {
    const meta = await ctx.api.get<ReportMeta>(`/v1/admin/reports/${encodeURIComponent(asked.body.id)}`);
    if (!meta.ok) return fail(ctx.err, meta.error);
    if (meta.body.status === 'ready') {
      const content = await ctx.api.get<{ summary?: unknown }>(`/v1/admin/reports/${encodeURIComponent(asked.body.id)}?format=json`);
      return succeed(ctx.out, { ...meta.body, summary: content.ok ? (content.body.summary ?? null) : null });
    }
    if (meta.body.status === 'failed') return fail(ctx.err, { code: 'REPORT_FAILED', message: `Report "${asked.body.id}" failed: ${meta.body.error ?? 'no reason given'}.` });
    if (ctx.clock().getTime() > deadline) {
      return fail(ctx.err, { code: 'REPORT_NOT_READY', message: `Report "${asked.body.id}" is still being made (is a worker running?); fetch it later with \`keyward reports get ${asked.body.id} --format html\`.` });
    }
    await pause(500);
  }
}

/** Lists reports, newest first, without their content. */
export async function listReports(ctx: CliContext, options: { readonly limit: number; readonly cursor?: string }): Promise<ExitCode> {
  return report(ctx, await ctx.api.get(`/v1/admin/reports${queryOf({ limit: options.limit, cursor: options.cursor })}`));
}

/** Writes a ready report as html, json or csv to `outFile` (created, never overwritten) or stdout. */
export async function getReport(ctx: CliContext, id: string, options: { readonly format: 'html' | 'json' | 'csv'; readonly outFile?: string }): Promise<ExitCode> {
  const answer = await ctx.api.get(`/v1/admin/reports/${encodeURIComponent(id)}?format=${options.format}`);
  if (!answer.ok) return fail(ctx.err, answer.error);
  const text = answer.text.endsWith('\n') ? answer.text : `${answer.text}\n`;
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
