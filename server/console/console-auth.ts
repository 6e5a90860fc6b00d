/**
 * Who is signed in to the console, and the checks every console request passes:
 *
 * - Sign-in exchanges an admin token (verified by server/auth's {@link AdminAuth}) for a
 *   session cookie: random 32 bytes, `HttpOnly`, `SameSite=Strict`, `Path=/console`, `Secure`
 *   when the request came over TLS (directly or through a trusted proxy saying so), expiring
 *   after {@link ConsoleAuthOptions.sessionTtlMs}. The token itself is never kept.
 * - Each request reads the session (MongoDB, so any instance serves it) and the token's record:
 *   a session ends when it expires, is signed out, or its token is revoked or expires.
 * - Every state-changing form carries the session's CSRF token (synchronizer pattern, compared
 *   in constant time); the sign-in form, before any session, a double-submit token from a
 *   short-lived cookie. A POST whose Origin header names another site is refused outright.
 * - Read-scope tokens get a session that can look but not decide.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import type { Context } from 'koa';
import proxyAddr from 'proxy-addr';

import type { AdminScope, AdminTokenStore } from '../../lib/store/admin-token-store.js';
import type { AdminAuth } from '../auth/admin-auth.js';
import { sessionIdOf, type ConsoleSession, type MongoConsoleSessionStore } from './console-session-store.js';

/** The session cookie. */
export const SESSION_COOKIE = 'kw_console';
/** The sign-in form's double-submit cookie. */
export const SIGN_IN_COOKIE = 'kw_console_signin';
/** Where both cookies apply. */
export const COOKIE_PATH = '/console';

/** Options for {@link ConsoleAuth}. */
export interface ConsoleAuthOptions {
  /** Verifies admin tokens at sign-in. Required. */
  readonly adminAuth: AdminAuth;
  /** Token records, re-read on every request so a revoked token ends its sessions at once. Required. */
  readonly tokens: AdminTokenStore;
  readonly sessions: MongoConsoleSessionStore;
  /** How long a session lasts, in ms. Default 8 hours. */
  readonly sessionTtlMs?: number;
  /** Proxies whose `X-Forwarded-Proto: https` is believed (as TRUSTED_PROXIES). Default none. */
  readonly trustedProxies?: readonly string[];
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/** A signed-in reviewer, as a console page sees them. */
export interface ConsoleUser {
  readonly sessionId: string;
  readonly tokenId: string;
  readonly tokenName: string;
  readonly scope: AdminScope;
  readonly csrfToken: string;
  /** May decide cases (a write token). */
  readonly canDecide: boolean;
}

/** Outcome of a sign-in. */
export type SignInResult = { readonly ok: true; readonly cookie: string } | { readonly ok: false; readonly message: string };

const randomToken = (): string => randomBytes(32).toString('base64url');

/** Whether two strings are equal, in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** The cookies of a request, by name (first of each name wins). */
export function readCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 1) continue;
    const name = part.slice(0, at).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(at + 1).trim());
  }
  return cookies;
}

/** A `Set-Cookie` value with the console's attributes. `maxAgeSeconds` 0 deletes the cookie. */
export function cookieHeader(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${name}=${value}`, `Path=${COOKIE_PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join('; ');
}

/** Sessions, sign-in and CSRF for the console. */
export class ConsoleAuth {
  readonly #adminAuth: AdminAuth;
  readonly #tokens: AdminTokenStore;
  readonly #sessions: MongoConsoleSessionStore;
  readonly #ttlMs: number;
  readonly #clock: () => Date;
  readonly #trust: ((address: string, hop: number) => boolean) | null;

  constructor(options: ConsoleAuthOptions) {
    const ttl = options.sessionTtlMs ?? 8 * 3_600_000;
    if (!Number.isInteger(ttl) || ttl < 60_000) throw new RangeError('console sessionTtlMs must be a whole number of ms, at least 60000');
    this.#adminAuth = options.adminAuth;
    this.#tokens = options.tokens;
    this.#sessions = options.sessions;
    this.#ttlMs = ttl;
    this.#clock = options.clock ?? (() => new Date());
    this.#trust = (options.trustedProxies ?? []).length === 0 ? null : proxyAddr.compile([...(options.trustedProxies ?? [])]);
  }

  /** Whether the request reached us over TLS: its own socket, or a trusted proxy's `X-Forwarded-Proto`. */
  isSecure(request: IncomingMessage): boolean {
    if ((request.socket as { encrypted?: boolean }).encrypted === true) return true;
    const peer = request.socket.remoteAddress ?? '';
    if (this.#trust === null || !this.#trust(peer, 0)) return false;
    const forwarded = request.headers['x-forwarded-proto'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
    return first === 'https';
  }

  /** The sign-in form's token: reuses the request's cookie or makes one, and answers the cookie to set (if any). */
  signInToken(ctx: Context): { token: string; setCookie: string | null } {
    const held = readCookies(ctx.get('cookie'))
      .get(SIGN_IN_COOKIE)
      ?.match(/^[A-Za-z0-9_-]{43}$/)?.[0];
    if (held !== undefined) return { token: held, setCookie: null };
    const token = randomToken();
    return { token, setCookie: cookieHeader(SIGN_IN_COOKIE, token, 600, this.isSecure(ctx.req)) };
  }

  /** Whether a sign-in form's token matches its cookie. */
  checkSignInToken(ctx: Context, formToken: string | undefined): boolean {
    const held = readCookies(ctx.get('cookie')).get(SIGN_IN_COOKIE);
    return held !== undefined && formToken !== undefined && constantTimeEqual(held, formToken);
  }

  /** Verifies an admin token and opens a session for it. */
  async signIn(ctx: Context, adminToken: string): Promise<SignInResult> {
    const verified = await this.#adminAuth.authenticate(`Bearer ${adminToken.trim()}`);
    if (!verified.ok) {
      return { ok: false, message: verified.code === 'TOKEN_EXPIRED' ? 'This admin token has expired; ask for a new one.' : 'That is not a valid admin token.' };
    }
    const now = this.#clock();
    const secret = randomToken();
    const { principal } = verified;
    await this.#sessions.deleteExpired(now);
    await this.#sessions.insert({
      id: sessionIdOf(secret),
      tokenId: principal.tokenId,
      tokenName: principal.name,
      scope: principal.scope,
      csrfToken: randomToken(),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.#ttlMs),
      revokedAt: null,
    });
    return { ok: true, cookie: cookieHeader(SESSION_COOKIE, secret, Math.floor(this.#ttlMs / 1000), this.isSecure(ctx.req)) };
  }

  /** The signed-in user of a request, or null (no cookie, unknown, expired, signed out, or token no longer valid). */
  async userOf(ctx: Context): Promise<ConsoleUser | null> {
    const secret = readCookies(ctx.get('cookie')).get(SESSION_COOKIE);
    if (secret === undefined || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
    const session = await this.#sessions.get(sessionIdOf(secret));
    const now = this.#clock();
    if (!session || session.revokedAt !== null || now.getTime() >= session.expiresAt.getTime()) return null;
    if (!(await this.#tokenStillValid(session, now))) return null;
    return {
      sessionId: session.id,
      tokenId: session.tokenId,
      tokenName: session.tokenName,
      scope: session.scope,
      csrfToken: session.csrfToken,
      canDecide: session.scope === 'write',
    };
  }

  /** Ends the session (sign-out) and answers the cookie that clears it. */
  async signOut(ctx: Context, user: ConsoleUser): Promise<string> {
    await this.#sessions.revoke(user.sessionId, this.#clock());
    return cookieHeader(SESSION_COOKIE, '', 0, this.isSecure(ctx.req));
  }

  /** Whether a form's CSRF token is the session's. */
  checkCsrf(user: ConsoleUser, formToken: string | undefined): boolean {
    return formToken !== undefined && constantTimeEqual(user.csrfToken, formToken);
  }

  async #tokenStillValid(session: ConsoleSession, now: Date): Promise<boolean> {
    const token = await this.#tokens.findById(session.tokenId);
    return token !== null && token.revokedAt === null && (token.expiresAt === null || now.getTime() < token.expiresAt.getTime());
  }
}

/**
 * Whether a POST's Origin (when the browser sends one) is this server's own: cross-site form
 * posts are refused before any CSRF token is looked at.
 */
export function sameOrigin(ctx: Context, secure: boolean): boolean {
  const origin = ctx.get('origin');
  if (origin === '') return true;
  return origin === `${secure ? 'https' : 'http'}://${ctx.get('host')}`;
}
