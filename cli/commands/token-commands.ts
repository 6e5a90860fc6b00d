/**
 * `keyward token …`: create, list and revoke admin tokens over the admin API (a write token).
 * `token create` alone also works without a server, straight on the database, for the very
 * first token (see cli-config.ts).
 */
import type { AdminScope, AdminTokenStore } from '../../lib/store/admin-token-store.js';
import { adminTokenView, createAdminToken } from '../../server/auth/admin-auth.js';
import type { CliContext, CliOutput } from '../cli-context.js';
import { fail, report, succeed, type ExitCode } from '../cli-output.js';

const DAY_MS = 86_400_000;
const SHOWN_ONCE = 'Store this token now: it is shown only once.\n';

/** Options of `token create`. */
export interface CreateTokenOptions {
  readonly name: string;
  readonly scope: AdminScope;
  /** Days until the token expires. Default: never. */
  readonly expiresInDays?: number;
}

/** Creates a token through the server and prints it: the only time the plain token is ever shown. */
export async function createToken(ctx: CliContext, options: CreateTokenOptions): Promise<ExitCode> {
  const answer = await ctx.api.post('/v1/admin/tokens', {
    name: options.name,
    scope: options.scope,
    ...(options.expiresInDays === undefined ? {} : { expiresInDays: options.expiresInDays }),
  });
  if (!answer.ok) return fail(ctx.err, answer.error);
  ctx.err.write(SHOWN_ONCE);
  return succeed(ctx.out, answer.body);
}

/** What `token create` needs without a server. */
export interface DirectTokenContext {
  readonly adminTokens: AdminTokenStore;
  readonly out: CliOutput;
  readonly err: CliOutput;
  readonly clock: () => Date;
}

/** Creates a token straight in the database (the very first one): prints it once. */
export async function createTokenDirectly(ctx: DirectTokenContext, options: CreateTokenOptions): Promise<ExitCode> {
  const now = ctx.clock();
  const expiresAt = options.expiresInDays === undefined ? null : new Date(now.getTime() + options.expiresInDays * DAY_MS);
  const { token, record } = await createAdminToken(ctx.adminTokens, { name: options.name, scope: options.scope, expiresAt }, now);
  ctx.err.write(SHOWN_ONCE);
  return succeed(ctx.out, { ...adminTokenView(record), token });
}

/** Lists tokens (never their secrets). */
export async function listTokens(ctx: CliContext): Promise<ExitCode> {
  return report(ctx, await ctx.api.get('/v1/admin/tokens'));
}

/**
 * Revokes a token for good. The server refuses it from then on; with Redis, every other server
 * stops accepting it at once too (the revocation bus), without, within its cache period (30 s).
 */
export async function revokeToken(ctx: CliContext, tokenId: string): Promise<ExitCode> {
  return report(ctx, await ctx.api.post(`/v1/admin/tokens/${encodeURIComponent(tokenId)}/revoke`));
}
