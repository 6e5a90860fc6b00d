/**
 * `keyward licenses create`: issues licenses in bulk through the admin API and hands over their
 * keys as CSV, the only time the plain keys leave the service in bulk. Large counts go in
 * requests of {@link ISSUE_BATCH} (the API's limit per request), with a progress bar between
 * them. The output file is opened before any license is issued, so a file that cannot be
 * written never costs a batch of keys nobody has.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import type { CliContext } from '../cli-context.js';
import { EXIT, fail, succeed, type ExitCode } from '../cli-output.js';

const DAY_MS = 86_400_000;

/** Licenses asked for per request: the admin API issues at most 10,000 at once. */
export const ISSUE_BATCH = 10_000;

/** Licenses per request when their keys are e-mailed (the API's limit for `email`). */
export const EMAILED_ISSUE_BATCH = 100;

/** A license as `POST /v1/admin/licenses` answers it: its summary and, this once, its key. */
export interface IssuedKey {
  readonly id: string;
  readonly key: string;
  readonly keyMask: string;
  readonly planId: string;
  readonly customerId: string | null;
  readonly status: string;
  readonly trial: { readonly endsAt: string } | null;
  readonly periodEndsAt: string | null;
}

/** Options of `licenses create`. */
export interface CreateLicensesOptions {
  readonly planId: string;
  /** How many. Default 1. */
  readonly count?: number;
  /** Issue trial keys of the plan's trial days. Default false. */
  readonly trial?: boolean;
  readonly customerId?: string;
  /** E-mail each key to this address (through the server's outbox); trials record it for trial-cycling checks. Default: no e-mail. */
  readonly email?: string;
  /** Paid period from now, in days. Default: perpetual (ignored for trials). */
  readonly periodDays?: number;
  /** CSV file for the keys: created with mode 0600, never overwritten. Default: CSV on stdout. */
  readonly outFile?: string;
}

const CSV_HEADER = ['id', 'key', 'keyMask', 'planId', 'customerId', 'status', 'trialEndsAt', 'periodEndsAt'];

function csvField(value: string | null): string {
  const text = value ?? '';
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV of issued keys, with a header line. */
export function keysCsv(issued: readonly IssuedKey[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const license of issued) {
    lines.push(
      [license.id, license.key, license.keyMask, license.planId, license.customerId, license.status, license.trial?.endsAt ?? null, license.periodEndsAt]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

async function openOutput(ctx: CliContext, path: string): Promise<FileHandle | ExitCode> {
  try {
    return await open(path, 'wx', 0o600);
  } catch (error) {
    const exists = (error as { code?: unknown }).code === 'EEXIST';
    return fail(
      ctx.err,
      exists
        ? { code: 'OUTPUT_EXISTS', message: `${path} already exists; keys are never written over another file.` }
        : { code: 'OUTPUT_UNWRITABLE', message: `Cannot create ${path}: ${error instanceof Error ? error.message : String(error)}` },
      EXIT.usage,
    );
  }
}

async function deliver(ctx: CliContext, file: FileHandle | null, issued: readonly IssuedKey[]): Promise<void> {
  const csv = keysCsv(issued);
  if (file) await file.writeFile(csv, 'utf8');
  else ctx.out.write(csv);
}

/** Issues the licenses and writes their keys as CSV (to the file, or to stdout). */
export async function createLicenses(ctx: CliContext, options: CreateLicensesOptions): Promise<ExitCode> {
  const count = options.count ?? 1;
  const now = ctx.clock();
  let file: FileHandle | null = null;
  if (options.outFile !== undefined) {
    const opened = await openOutput(ctx, options.outFile);
    if (typeof opened === 'number') return opened;
    file = opened;
  }
  let written = false;
  try {
    const bar = count > 1 ? ctx.progress?.(count) : undefined;
    const issued: IssuedKey[] = [];
    try {
      while (issued.length < count) {
        const answer = await ctx.api.post<{ licenses: IssuedKey[] }>('/v1/admin/licenses', {
          planId: options.planId,
          count: Math.min(options.email === undefined ? ISSUE_BATCH : EMAILED_ISSUE_BATCH, count - issued.length),
          ...(options.trial === true ? { trial: true } : {}),
          ...(options.customerId === undefined ? {} : { customerId: options.customerId }),
          ...(options.email === undefined ? {} : { email: options.email }),
          ...(options.periodDays === undefined || options.trial === true ? {} : { periodEndsAt: new Date(now.getTime() + options.periodDays * DAY_MS).toISOString() }),
        });
        if (!answer.ok) {
          // Keys of earlier batches exist: hand them over rather than lose them.
          if (issued.length > 0) await deliver(ctx, file, issued);
          written = issued.length > 0;
          return fail(ctx.err, issued.length > 0 ? { ...answer.error, message: `${answer.error.message} (${issued.length} of ${count} licenses were issued before this and are in the output)` } : answer.error);
        }
        issued.push(...answer.body.licenses);
        bar?.update(issued.length);
      }
    } finally {
      bar?.stop();
    }
    await deliver(ctx, file, issued);
    written = true;
    return file ? succeed(ctx.out, { created: issued.length, planId: options.planId, file: options.outFile }) : EXIT.ok;
  } finally {
    await file?.close();
    // An empty file left behind would read as "no keys" to the next script.
    if (file && !written && options.outFile !== undefined) await unlink(options.outFile);
  }
}
