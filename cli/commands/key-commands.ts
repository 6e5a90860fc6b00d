/**
 * `keyward licenses reveal-key | resend-key` and `keyward customers licenses`: showing a key to
 * its owner's operator, e-mailing it again through the outbox, and a customer's licenses with
 * masked keys. A reveal is recorded on stderr (who, which license), never with the key.
 */
import type { LicenseStatus } from '../../lib/lifecycle/license.js';
import { resendKey } from '../../lib/service/key-resend.js';
import { licenseView } from '../../lib/service/license-view.js';
import type { CliContext } from '../cli-context.js';
import { fail, succeed, type ExitCode } from '../cli-output.js';

/** `licenses reveal-key <id>`: prints `{ licenseId, key }`. */
export async function revealKey(ctx: CliContext, id: string): Promise<ExitCode> {
  const record = await ctx.keyward.licenses.get(id);
  if (!record) return fail(ctx.err, { code: 'NOT_FOUND', message: `No license "${id}".` });
  const key = ctx.keyward.licenses.revealKey(record);
  ctx.err.write(`keyward: key of ${record.license.id} revealed to ${ctx.actor} at ${ctx.clock().toISOString()}\n`);
  return succeed(ctx.out, { licenseId: record.license.id, key });
}

/** `licenses resend-key <id> [--to <address>]`: queues a key delivery e-mail; prints the outbox id. */
export async function resendKeyCommand(ctx: CliContext, id: string, options: { readonly to?: string } = {}): Promise<ExitCode> {
  const result = await resendKey({ licenses: ctx.keyward.licenses, outbox: ctx.emailOutbox }, id, {
    now: ctx.clock(),
    ...(options.to === undefined ? {} : { to: options.to }),
  });
  if (!result.ok) return fail(ctx.err, result.refusal);
  return succeed(ctx.out, { id: result.emailId, licenseId: result.licenseId, to: result.to, status: 'pending' });
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
  const limit = options.limit ?? 50;
  // One more than the page tells whether another page follows.
  const found = await ctx.keyward.licenses.list({
    customerId,
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.cursor === undefined ? {} : { after: options.cursor }),
    limit: limit + 1,
  });
  const page = found.slice(0, limit);
  return succeed(ctx.out, { customerId, data: page.map(licenseView), nextCursor: found.length > limit ? (page.at(-1)?.license.id ?? null) : null });
}
