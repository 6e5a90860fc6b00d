/** `keyward emails list | retry`: the outbox over the admin API (no keys: the outbox never holds one). */
import type { OutboxStatus } from '../../lib/store/mongo-email-outbox.js';
import { queryOf } from '../admin-api-client.js';
import type { CliContext } from '../cli-context.js';
import { report, type ExitCode } from '../cli-output.js';

/** Filters and page of `emails list`. */
export interface ListEmailsOptions {
  readonly status?: OutboxStatus;
  readonly licenseId?: string;
  readonly customerId?: string;
  /** Page size, 1-500. Default 50. */
  readonly limit?: number;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** Prints a page of outbox e-mails, newest first, as `{ data, nextCursor }`. */
export async function listEmails(ctx: CliContext, options: ListEmailsOptions = {}): Promise<ExitCode> {
  const query = queryOf({ status: options.status, licenseId: options.licenseId, customerId: options.customerId, limit: options.limit, cursor: options.cursor });
  return report(ctx, await ctx.api.get(`/v1/admin/emails${query}`));
}

/** `emails retry <emailId>`: queues a failed e-mail again with fresh attempts. */
export async function retryEmail(ctx: CliContext, emailId: string): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(`/v1/admin/emails/${encodeURIComponent(emailId)}/retry`));
}
