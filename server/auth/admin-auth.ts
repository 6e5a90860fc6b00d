/**
 * Admin authentication. A token reads `kwa_<token id>_<secret>`: the id finds the stored
 * record, the secret (32 random bytes, base64url) proves possession. Only SHA-256 of the
 * secret is stored, so a copy of the database grants nothing; the plain token is shown once,
 * at creation. Tokens are never logged.
 *
 * Every failure short of a correct secret answers the same UNAUTHORIZED, so a caller learns
 * nothing about which ids exist or were revoked; only the holder of a correct secret is told
 * that the token expired. Nor does the time tell: an unknown id and a known id with a wrong
 * secret take one path. The cache remembers a looked-up id whether or not it exists, so the
 * store is read on the first sight of an id either way and never after; the secret is compared
 * in constant time against the stored hash or, for an unknown id, a decoy.
 *
 * Revocations reach the cache of every server through the revocation bus
 * (admin-token-revocations.ts); without it, after at most `cacheTtlMs`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { LRUCache } from 'lru-cache';
import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { newId } from '../../lib/service/new-id.js';
import type { InvalidationBus } from '../../lib/service/invalidation-bus.js';
import type { AdminScope, AdminTokenRecord, AdminTokenStore } from '../../lib/store/admin-token-store.js';
import { ApiError } from '../http/api-error.js';

/** Who made an authenticated admin request; set as `ctx.state.admin` by {@link AdminAuth.requireAdmin}. */
export interface AdminPrincipal {
  readonly tokenId: string;
  readonly name: string;
  readonly scope: AdminScope;
}

/** Outcome of checking an `Authorization` header. */
export type AdminAuthResult =
  | { readonly ok: true; readonly principal: AdminPrincipal }
  | { readonly ok: false; readonly code: 'UNAUTHORIZED' | 'TOKEN_EXPIRED' };

/** What a new token needs. */
export interface AdminTokenRequest {
  readonly name: string;
  readonly scope: AdminScope;
  /** Default: never expires. */
  readonly expiresAt?: Date | null;
}

/** A new token: the plain `token` exists only here and must be handed to its user now. */
export interface CreatedAdminToken {
  readonly token: string;
  readonly record: AdminTokenRecord;
}

/** Options for {@link AdminAuth}. */
export interface AdminAuthOptions {
  /** Where tokens are kept. Required. */
  readonly store: AdminTokenStore;
  /**
   * How long a looked-up token record is kept in memory, in ms. A revocation that does not reach
   * this process through the revocation bus (Redis down) takes effect after at most this long.
   * Default 30,000.
   */
  readonly cacheTtlMs?: number;
  /** Most token records kept in memory. Default 1,000. */
  readonly cacheMax?: number;
  /** Clock, for expiry and the cache. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

const TOKEN_PATTERN = /^kwa_(tok_[0-9a-z]{26})_([A-Za-z0-9_-]{43})$/;
const BEARER_PATTERN = /^Bearer +(\S+) *$/i;
/** Longer headers are not tokens; refusing them early keeps hashing and regexes bounded. */
const MAX_HEADER_LENGTH = 256;
const REALM = 'Bearer realm="keyward-admin"';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Whether `secret` hashes to `secretHash`, compared in constant time. */
function secretMatches(secret: string, secretHash: string): boolean {
  const expected = Buffer.from(secretHash, 'hex');
  // timingSafeEqual throws on a length mismatch; a stored hash of the wrong length matches nothing.
  return expected.length === 32 && timingSafeEqual(sha256(secret), expected);
}

/** The token id and secret in an `Authorization` header, or null when it holds no admin token. */
function parseAuthorization(header: string | undefined): { tokenId: string; secret: string } | null {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return null;
  const token = BEARER_PATTERN.exec(header)?.[1];
  const parts = token === undefined ? null : TOKEN_PATTERN.exec(token);
  if (!parts?.[1] || !parts[2]) return null;
  return { tokenId: parts[1], secret: parts[2] };
}

/** A token record without its secret hash. */
export function adminTokenView(record: AdminTokenRecord) {
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

/**
 * Creates and stores a token. The plain token is returned once and never stored.
 *
 * @param store - Where the record goes.
 * @param request - Name, scope and optional expiry.
 * @param now - Creation time.
 */
export async function createAdminToken(store: AdminTokenStore, request: AdminTokenRequest, now: Date): Promise<CreatedAdminToken> {
  if (request.name.trim() === '') throw new TypeError('An admin token needs a name.');
  const id = newId('tok', now);
  const secret = randomBytes(32).toString('base64url');
  const record: AdminTokenRecord = {
    id,
    name: request.name,
    scope: request.scope,
    secretHash: sha256(secret).toString('hex'),
    createdAt: now,
    expiresAt: request.expiresAt ?? null,
    revokedAt: null,
    lastUsedAt: null,
  };
  await store.insert(record);
  return { token: `kwa_${id}_${secret}`, record };
}

/** A looked-up token id: its record, or null when there is none; whether its use was recorded. */
interface LookedUp {
  readonly record: AdminTokenRecord | null;
  touched: boolean;
}

/** Checks admin tokens, with a short-lived cache of verified records in front of the store. */
export class AdminAuth {
  readonly #store: AdminTokenStore;
  readonly #clock: () => Date;
  /** Looked-up ids, found or not (`record: null`): see the module comment. */
  readonly #records: LRUCache<string, LookedUp>;
  /** Compared against when the id is unknown, so that path costs what a wrong secret costs. */
  readonly #decoyHash = randomBytes(32).toString('hex');

  constructor(options: AdminAuthOptions) {
    const ttl = options.cacheTtlMs ?? 30_000;
    const max = options.cacheMax ?? 1_000;
    if (!Number.isInteger(ttl) || ttl < 1) throw new ConfigurationError('adminAuth.cacheTtlMs', 'must be a positive integer (ms)');
    if (!Number.isInteger(max) || max < 1) throw new ConfigurationError('adminAuth.cacheMax', 'must be a positive integer');
    this.#store = options.store;
    const clock = options.clock ?? (() => new Date());
    this.#clock = clock;
    this.#records = new LRUCache<string, LookedUp>({
      max,
      ttl,
      // Checked on every read against the injected clock, with no timers.
      ttlResolution: 0,
      ttlAutopurge: false,
      perf: { now: () => clock().getTime() },
    });
  }

  /** Checks an `Authorization` header value. Never throws for a bad token; store failures do throw. */
  async authenticate(authorization: string | undefined): Promise<AdminAuthResult> {
    const parsed = parseAuthorization(authorization);
    if (!parsed) return { ok: false, code: 'UNAUTHORIZED' };
    let entry = this.#records.get(parsed.tokenId);
    if (entry === undefined) {
      entry = { record: await this.#store.findById(parsed.tokenId), touched: false };
      this.#records.set(parsed.tokenId, entry);
    }
    const record = entry.record;
    // Secret first, compared either way: the state of a token (revoked, expired) is told only to its holder.
    const matches = secretMatches(parsed.secret, record?.secretHash ?? this.#decoyHash);
    if (!record || !matches || record.revokedAt !== null) {
      return { ok: false, code: 'UNAUTHORIZED' };
    }
    const now = this.#clock();
    if (record.expiresAt !== null && now.getTime() >= record.expiresAt.getTime()) return { ok: false, code: 'TOKEN_EXPIRED' };
    // Use is recorded once per look-up (so at most once per cache period).
    if (!entry.touched) {
      entry.touched = true;
      await this.#store.touch(record.id, now);
    }
    return { ok: true, principal: { tokenId: record.id, name: record.name, scope: record.scope } };
  }

  /** Drops a token from this process's cache (it was revoked, here or elsewhere). */
  forget(tokenId: string): void {
    this.#records.delete(tokenId);
  }

  /**
   * Follows revocations published on `bus` (see admin-token-revocations.ts): each revoked id is
   * dropped from the cache, so the next request re-reads the revoked record.
   *
   * @returns once this process is subscribed.
   */
  followRevocations(bus: InvalidationBus): Promise<void> {
    return bus.subscribe((tokenId) => this.forget(tokenId));
  }

  /**
   * Koa middleware: refuses the request unless it carries a valid token with `scope` (a write
   * token may also read), and sets `ctx.state.admin` to its {@link AdminPrincipal}.
   */
  requireAdmin(scope: AdminScope): Middleware {
    return async (ctx, next) => {
      const result = await this.authenticate(ctx.get('authorization') || undefined);
      if (!result.ok) {
        if (result.code === 'TOKEN_EXPIRED') {
          throw new ApiError('TOKEN_EXPIRED', 'The admin token has expired; create a new one.', {}, {
            'www-authenticate': `${REALM}, error="invalid_token", error_description="The token expired"`,
          });
        }
        throw new ApiError('UNAUTHORIZED', 'A valid admin token is required: send "Authorization: Bearer kwa_...".', {}, {
          'www-authenticate': REALM,
        });
      }
      if (scope === 'write' && result.principal.scope !== 'write') {
        throw new ApiError('FORBIDDEN', 'This admin token may only read; this route needs a write token.', { requiredScope: 'write' }, {
          'www-authenticate': `${REALM}, error="insufficient_scope", scope="write"`,
        });
      }
      ctx.state['admin'] = result.principal;
      await next();
    };
  }
}

/** The principal set by {@link AdminAuth.requireAdmin}; a route without it is a wiring fault. */
export function adminOf(ctx: Context): AdminPrincipal {
  const admin = ctx.state['admin'] as AdminPrincipal | undefined;
  if (!admin) throw new Error(`Route ${ctx.method} ${ctx.path} runs without requireAdmin.`);
  return admin;
}
