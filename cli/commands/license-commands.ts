/**
 * `keyward licenses get | list | audit` and the lifecycle commands. Each reads or applies one
 * thing through the license service and prints the license view (masked key, never the key).
 */
import { describeUnknownPlan } from '../../lib/plans/unknown-plan.js';
import type { LicenseCommand } from '../../lib/lifecycle/commands.js';
import type { LicenseStatus, RevocationReason, SuspensionReason } from '../../lib/lifecycle/license.js';
import { auditEntryView, licenseView } from '../../lib/service/license-view.js';
import type { CliContext } from '../cli-context.js';
import { fail, succeed, type ExitCode } from '../cli-output.js';

const notFound = (ctx: CliContext, id: string): ExitCode => fail(ctx.err, { code: 'NOT_FOUND', message: `No license "${id}".` });

/** Prints one license. */
export async function getLicense(ctx: CliContext, id: string): Promise<ExitCode> {
  const record = await ctx.keyward.licenses.get(id);
  return record ? succeed(ctx.out, licenseView(record)) : notFound(ctx, id);
}

/** Filters and page of `licenses list`. */
export interface ListLicensesOptions {
  readonly status?: LicenseStatus;
  readonly planId?: string;
  readonly customerId?: string;
  readonly product?: string;
  /** Page size, 1-500. Default 50. */
  readonly limit?: number;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** Prints a page of licenses as `{ data, nextCursor }`, ordered by id. */
export async function listLicenses(ctx: CliContext, options: ListLicensesOptions): Promise<ExitCode> {
  const limit = options.limit ?? 50;
  // One more than the page tells whether another page follows.
  const found = await ctx.keyward.licenses.list({
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.planId === undefined ? {} : { planId: options.planId }),
    ...(options.customerId === undefined ? {} : { customerId: options.customerId }),
    ...(options.product === undefined ? {} : { product: options.product }),
    ...(options.cursor === undefined ? {} : { after: options.cursor }),
    limit: limit + 1,
  });
  const page = found.slice(0, limit);
  return succeed(ctx.out, {
    data: page.map(licenseView),
    nextCursor: found.length > limit ? (page.at(-1)?.license.id ?? null) : null,
  });
}

/** Page of `licenses audit`. */
export interface AuditOptions {
  readonly afterVersion?: number;
  /** Entries, 1-500. Default 100. */
  readonly limit?: number;
}

/** Prints a license's audit trail as `{ data, nextCursor }`, oldest first. */
export async function showAudit(ctx: CliContext, id: string, options: AuditOptions = {}): Promise<ExitCode> {
  if (!(await ctx.keyward.licenses.get(id))) return notFound(ctx, id);
  const limit = options.limit ?? 100;
  const found = await ctx.keyward.licenses.auditTrail(id, {
    ...(options.afterVersion === undefined ? {} : { afterVersion: options.afterVersion }),
    limit: limit + 1,
  });
  const page = found.slice(0, limit);
  const last = page.at(-1);
  return succeed(ctx.out, { data: page.map(auditEntryView), nextCursor: found.length > limit && last ? String(last.version) : null });
}

/** Applies a command; prints the license, or the refusal (exit 1, nothing written). */
async function applyCommand(ctx: CliContext, id: string, command: LicenseCommand): Promise<ExitCode> {
  const result = await ctx.keyward.licenses.apply(id, command);
  return result.ok ? succeed(ctx.out, licenseView(result.value)) : fail(ctx.err, result.refusal);
}

const causeOf = (ctx: CliContext, reason?: string) => ({ actor: ctx.actor, ...(reason === undefined ? {} : { reason }) });

/** `licenses suspend <id> [--reason] [--note]`; the reason defaults to `manual`. */
export function suspendLicense(ctx: CliContext, id: string, options: { readonly reason?: SuspensionReason; readonly note?: string } = {}): Promise<ExitCode> {
  return applyCommand(ctx, id, {
    type: 'suspend',
    reason: options.reason ?? 'manual',
    ...(options.note === undefined ? {} : { note: options.note }),
    cause: causeOf(ctx, options.note),
  });
}

/** `licenses reinstate <id>` */
export function reinstateLicense(ctx: CliContext, id: string): Promise<ExitCode> {
  return applyCommand(ctx, id, { type: 'reinstate', cause: causeOf(ctx) });
}

/** `licenses revoke <id> --reason <reason> [--note]` */
export function revokeLicense(ctx: CliContext, id: string, options: { readonly reason: RevocationReason; readonly note?: string }): Promise<ExitCode> {
  return applyCommand(ctx, id, {
    type: 'revoke',
    reason: options.reason,
    ...(options.note === undefined ? {} : { note: options.note }),
    cause: causeOf(ctx, options.note),
  });
}

/** `licenses renew <id> --until <ISO>` */
export function renewLicense(ctx: CliContext, id: string, options: { readonly until: Date; readonly endsTrial?: boolean }): Promise<ExitCode> {
  return applyCommand(ctx, id, {
    type: 'renew',
    periodEndsAt: options.until,
    ...(options.endsTrial === undefined ? {} : { endsTrial: options.endsTrial }),
    cause: causeOf(ctx),
  });
}

/** `licenses change-plan <id> --plan <id> [--free act_1,act_2]`; an unknown plan is refused (exit 1). */
export function changePlan(
  ctx: CliContext,
  id: string,
  options: { readonly planId: string; readonly freeActivationIds?: readonly string[] },
): Promise<ExitCode> {
  const plan = ctx.keyward.plans.get(options.planId);
  if (!plan) return Promise.resolve(fail(ctx.err, { code: 'UNKNOWN_PLAN', message: describeUnknownPlan(options.planId, ctx.keyward.plans).message }));
  return applyCommand(ctx, id, {
    type: 'change_plan',
    plan,
    ...(options.freeActivationIds === undefined ? {} : { freeActivationIds: options.freeActivationIds }),
    cause: causeOf(ctx),
  });
}
