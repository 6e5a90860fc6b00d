/**
 * `keyward licenses reveal-key | resend-key` and `keyward customers licenses`, over the admin
 * API. The server logs each reveal (who, which license, never the key); the CLI notes it on
 * stderr too.
 */
import type { LicenseStatus } from '../../lib/lifecycle/license.js';
import { queryOf } from '../admin-api-client.js';
import type { CliContext } from '../cli-context.js';
import { fail, report, succeed, type ExitCode } from '../cli-output.js';

/** `licenses reveal-key <id>`: prints `{ licenseId, key }`. */
export async function revealKey(ctx: CliContext, id: string): Promise<ExitCode> {
  const answer = await ctx.api.post<{ key: string }>(`/v1/admin/licenses/${encodeURIComponent(id)}/reveal-key`);
  if (!answer.ok) return fail(ctx.err, answer.error);
  ctx.err.write(`keyward: key of ${id} revealed at ${ctx.clock().toISOString()} (the server logged the reveal)\n`);
  return succeed(ctx.out, { licenseId: id, key: answer.body.key });
}

/** `licenses resend-key <id> [--to <address>]`: queues a key delivery e-mail; prints the outbox id. */
export async function resendKeyCommand(ctx: CliContext, id: string, options: { readonly to?: string } = {}): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(`/v1/admin/licenses/${encodeURIComponent(id)}/resend-key`, options.to === undefined ? {} : { to: options.to }));
}

/** Filters and page of `customers licenses`. */
export interface CustomerLicensesOptions {
  readonly status?: LicenseStatus;
  /** Page size, 1-500. Default 50. */
  readonly limit?: number;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** `customers licenses <customerId>`: a page of the customer's licenses as `{ customerId, data, nextCursor }`. */
export async function customerLicenses(ctx: CliContext, customerId: string, options: CustomerLicensesOptions = {}): Promise<ExitCode> {
  const query = queryOf({ status: options.status, limit: options.limit, cursor: options.cursor });
  return report(ctx, await ctx.api.get(`/v1/admin/customers/${encodeURIComponent(customerId)}/licenses${query}`));
}
