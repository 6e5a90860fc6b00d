/**
 * `keyward licenses get | list | audit` and the lifecycle commands, over the admin API. Each
 * prints the server's answer (the license view: masked key, never the key) or its refusal.
 */
import type { LicenseStatus, RevocationReason, SuspensionReason } from '../../lib/lifecycle/license.js';
import { queryOf } from '../admin-api-client.js';
import type { CliContext } from '../cli-context.js';
import { report, type ExitCode } from '../cli-output.js';

const licensePath = (id: string, action = ''): string => `/v1/admin/licenses/${encodeURIComponent(id)}${action === '' ? '' : `/${action}`}`;

/** Prints one license. */
export async function getLicense(ctx: CliContext, id: string): Promise<ExitCode> {
  return report(ctx, await ctx.api.get(licensePath(id)));
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
  const query = queryOf({ status: options.status, planId: options.planId, customerId: options.customerId, product: options.product, limit: options.limit, cursor: options.cursor });
  return report(ctx, await ctx.api.get(`/v1/admin/licenses${query}`));
}

/** Page of `licenses audit`. */
export interface AuditOptions {
  readonly afterVersion?: number;
  /** Entries, 1-500. Default 100. */
  readonly limit?: number;
}

/** Prints a license's audit trail as `{ data, nextCursor }`, oldest first. */
export async function showAudit(ctx: CliContext, id: string, options: AuditOptions = {}): Promise<ExitCode> {
  return report(ctx, await ctx.api.get(`${licensePath(id, 'audit')}${queryOf({ afterVersion: options.afterVersion, limit: options.limit })}`));
}

/** `licenses suspend <id> [--reason] [--note]`; the reason defaults to `manual`. */
export async function suspendLicense(ctx: CliContext, id: string, options: { readonly reason?: SuspensionReason; readonly note?: string } = {}): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(licensePath(id, 'suspend'), { reason: options.reason ?? 'manual', ...(options.note === undefined ? {} : { note: options.note }) }));
}

/** `licenses reinstate <id> [--only-if <reason>]` */
export async function reinstateLicense(ctx: CliContext, id: string, options: { readonly onlyIf?: SuspensionReason } = {}): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(licensePath(id, 'reinstate'), options.onlyIf === undefined ? {} : { onlyIf: options.onlyIf }));
}

/** `licenses revoke <id> --reason <reason> [--note]` */
export async function revokeLicense(ctx: CliContext, id: string, options: { readonly reason: RevocationReason; readonly note?: string }): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(licensePath(id, 'revoke'), { reason: options.reason, ...(options.note === undefined ? {} : { note: options.note }) }));
}

/** `licenses renew <id> --until <ISO> [--ends-trial]` */
export async function renewLicense(ctx: CliContext, id: string, options: { readonly until: Date; readonly endsTrial?: boolean }): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(licensePath(id, 'renew'), { periodEndsAt: options.until.toISOString(), ...(options.endsTrial === undefined ? {} : { endsTrial: options.endsTrial }) }));
}

/** `licenses change-plan <id> --plan <id> [--free act_1,act_2]`; an unknown plan is refused by the server (exit 1). */
export async function changePlan(ctx: CliContext, id: string, options: { readonly planId: string; readonly freeActivationIds?: readonly string[] }): Promise<ExitCode> {
  return report(
    ctx,
    await ctx.api.post(licensePath(id, 'change-plan'), { planId: options.planId, ...(options.freeActivationIds === undefined ? {} : { freeActivationIds: options.freeActivationIds }) }),
  );
}

/** `licenses cancel <id>`: valid until the period ends, then expired. */
export async function cancelLicense(ctx: CliContext, id: string): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(licensePath(id, 'cancel')));
}

/** `licenses resume <id>`: takes back a cancellation before the period ends. */
export async function resumeLicense(ctx: CliContext, id: string): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(licensePath(id, 'resume')));
}

/** `licenses usage <id> [--month YYYY-MM]`: validations counted against the monthly quota. */
export async function licenseUsage(ctx: CliContext, id: string, options: { readonly month?: string } = {}): Promise<ExitCode> {
  return report(ctx, await ctx.api.get(`${licensePath(id, 'usage')}${queryOf({ month: options.month })}`));
}
