/** `keyward emails list | retry`: the outbox from a terminal (no keys: the outbox never holds one). */
import { parseOutboxCursor, type OutboxStatus } from '../../lib/store/mongo-email-outbox.js';
import { outboxEmailView } from '../../lib/store/outbox-email-view.js';
import type { CliContext } from '../cli-context.js';
import { fail, succeed, type ExitCode } from '../cli-output.js';

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
  if (options.cursor !== undefined && parseOutboxCursor(options.cursor) === null) {
    return fail(ctx.err, { code: 'INVALID_REQUEST', message: '--cursor: is not a cursor of this listing (use the previous page’s nextCursor).' });
  }
  const page = await ctx.emailOutbox.list({
    limit: options.limit ?? 50,
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.licenseId === undefined ? {} : { licenseId: options.licenseId }),
    ...(options.customerId === undefined ? {} : { customerId: options.customerId }),
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  });
  return succeed(ctx.out, { data: page.data.map(outboxEmailView), nextCursor: page.nextCursor });
}

/** `emails retry <emailId>`: queues a failed e-mail again with fresh attempts. */
export async function retryEmail(ctx: CliContext, emailId: string): Promise<ExitCode> {
  const email = await ctx.emailOutbox.retryFailed(emailId, ctx.clock());
  return email ? succeed(ctx.out, outboxEmailView(email)) : fail(ctx.err, { code: 'NOT_FOUND', message: `No failed e-mail "${emailId}".` });
}
