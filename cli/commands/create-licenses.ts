/**
 * `keyward licenses create`: issues licenses in bulk and hands over their keys as CSV, the
 * only time the plain keys leave the service in bulk. The output file is opened before any
 * license is issued, so a file that cannot be written never costs a batch of keys nobody has.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import type { IssuedLicense } from '../../lib/service/license-service.js';
import type { CliContext } from '../cli-context.js';
import { EXIT, fail, succeed, type ExitCode } from '../cli-output.js';

const DAY_MS = 86_400_000;

/** Options of `licenses create`. */
export interface CreateLicensesOptions {
  readonly planId: string;
  /** How many. Default 1. */
  readonly count?: number;
  /** Issue trial keys of the plan's trial days. Default false. */
  readonly trial?: boolean;
  readonly customerId?: string;
  /** The customer's e-mail, recorded with trials for trial-cycling checks. Default: the customer's stored e-mail. */
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
export function keysCsv(issued: readonly IssuedLicense[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const { record, key } of issued) {
    const { license } = record;
    lines.push(
      [
        license.id,
        key,
        record.keyMask,
        license.planId,
        license.customerId,
        license.status,
        license.trial?.endsAt.toISOString() ?? null,
        license.periodEndsAt?.toISOString() ?? null,
      ]
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
    const result = await ctx.keyward.licenses
      .issueMany(
        count,
        {
          planId: options.planId,
          ...(options.trial === undefined ? {} : { trial: options.trial }),
          ...(options.customerId === undefined ? {} : { customerId: options.customerId }),
          ...(options.email === undefined ? {} : { email: options.email }),
          ...(options.periodDays === undefined ? {} : { periodEndsAt: new Date(now.getTime() + options.periodDays * DAY_MS) }),
          cause: { actor: ctx.actor },
        },
        (done) => bar?.update(done),
      )
      .finally(() => bar?.stop());
    if (!result.ok) return fail(ctx.err, result.refusal);
    const csv = keysCsv(result.value);
    if (!file) {
      ctx.out.write(csv);
      return EXIT.ok;
    }
    await file.writeFile(csv, 'utf8');
    written = true;
    return succeed(ctx.out, { created: result.value.length, planId: options.planId, file: options.outFile });
  } finally {
    await file?.close();
    // An empty file left behind would read as "no keys" to the next script.
    if (file && !written && options.outFile !== undefined) await unlink(options.outFile);
  }
}
