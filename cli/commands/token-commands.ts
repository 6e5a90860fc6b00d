/** `keyward token …`: create, list and revoke admin tokens. */
import type { AdminScope, AdminTokenRecord } from '../../lib/store/admin-token-store.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import type { CliContext } from '../cli-context.js';
import { fail, succeed, type ExitCode } from '../cli-output.js';

const DAY_MS = 86_400_000;

/** Options of `token create`. */
export interface CreateTokenOptions {
  readonly name: string;
  readonly scope: AdminScope;
  /** Days until the token expires. Default: never. */
  readonly expiresInDays?: number;
}

/** A token record without its secret hash. */
function tokenView(record: AdminTokenRecord) {
  return {
    id: record.id,
    name: record.name,
    scope: record.scope,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    lastUsedAt: record.lastUsedAt,
  };
}

/** Creates a token and prints it: the only time the plain token is ever shown. */
export async function createToken(ctx: CliContext, options: CreateTokenOptions): Promise<ExitCode> {
  const now = ctx.clock();
  const expiresAt = options.expiresInDays === undefined ? null : new Date(now.getTime() + options.expiresInDays * DAY_MS);
  const { token, record } = await createAdminToken(ctx.adminTokens, { name: options.name, scope: options.scope, expiresAt }, now);
  ctx.err.write('Store this token now: it is shown only once.\n');
  return succeed(ctx.out, { ...tokenView(record), token });
}

/** Lists tokens (never their secrets). */
export async function listTokens(ctx: CliContext): Promise<ExitCode> {
  return succeed(ctx.out, { data: (await ctx.adminTokens.list()).map(tokenView) });
}

/**
 * Revokes a token. With Redis, every server stops accepting it at once (the revocation bus);
 * without, within their cache period (30 s by default).
 */
export async function revokeToken(ctx: CliContext, tokenId: string): Promise<ExitCode> {
  const at = ctx.clock();
  if (!(await ctx.adminTokens.revoke(tokenId, at))) {
    return fail(ctx.err, { code: 'NOT_FOUND', message: `No unrevoked admin token "${tokenId}".` });
  }
  return succeed(ctx.out, { id: tokenId, revokedAt: at });
}
