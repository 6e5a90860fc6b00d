/**
 * `keyward/client`: what client software (desktop apps, plugins, CLIs, Electron's main
 * process) calls. Every answer's token is checked against the published keys before it is
 * believed; the last good token is cached on disk and answers offline until its `exp`, never
 * past it; failures are retried with backoff and jitter, honouring 429 Retry-After.
 *
 * Order of a validation: ask the server (with retries) → check the token → cache it (VALID) or
 * drop the cache (any other code) → or, when the server cannot be reached, rate-limits or keeps
 * failing, answer from the cached token after checking it again.
 */
import type {
  ActivationResult,
  ClientFailure,
  ClientFailureReason,
  ClientJwk,
  ClientJwks,
  DeactivationResult,
  ServerErrorCode,
  ValidationResult,
} from './client-types.js';
import { delayBeforeRetry, retryAfterSeconds, retryPolicy, type RetryOptions, type RetryPolicy } from './retry-policy.js';
import { keyHashOf, TokenFile } from './token-file.js';
import { verifyToken, decodeToken } from './verify-token.js';

/** Options for {@link KeywardClient} (defaults in brackets). */
export interface KeywardClientOptions {
  /** Base URL of the Keyward server, e.g. `https://licenses.example.com`. Required. */
  readonly serverUrl: string;
  /** The product this software is: tokens for another product are refused. Required. */
  readonly product: string;
  /** This machine's stable fingerprint (machine seats). One of fingerprint and domain is required. */
  readonly fingerprint?: string;
  /** The domain this software runs on (domain seats). */
  readonly domain?: string;
  /**
   * Pinned keys, e.g. the server's JWKS built into the app. Offline answers trust only these and
   * keys fetched over the network by this process. [none: fetched from `jwksUrl`]
   */
  readonly jwks?: ClientJwks;
  /** Where published keys are fetched for a kid that is not pinned. [`<serverUrl>/.well-known/jwks.json`] */
  readonly jwksUrl?: string;
  /** File for the last good token (offline answers). [none: no offline answers] */
  readonly cacheFile?: string;
  /** How far the server's clock may run ahead of this machine's, for `iat`, in seconds [60]. */
  readonly clockSkewSeconds?: number;
  /** Retries of failed requests (network, 5xx, 429). */
  readonly retry?: RetryOptions;
  /** Time limit of one request, in ms [10000]. */
  readonly timeoutMs?: number;
  /** Required token issuer [`keyward`]. */
  readonly issuer?: string;
  /** fetch [globalThis.fetch]. */
  readonly fetch?: typeof globalThis.fetch;
  /** The time [() => new Date()]. */
  readonly clock?: () => Date;
  /** Random numbers in [0, 1) for jitter [Math.random]. */
  readonly random?: () => number;
  /** Waits between retries [setTimeout]. */
  readonly sleep?: (ms: number) => Promise<void>;
}

type Settings = Required<Omit<KeywardClientOptions, 'fingerprint' | 'domain' | 'jwks' | 'cacheFile' | 'retry'>> & {
  readonly fingerprint?: string;
  readonly domain?: string;
  readonly retry: RetryPolicy;
};

/** A server reply after retries: its status and JSON body, or why there was none. */
type Reply =
  | { readonly kind: 'answer'; readonly status: number; readonly body: Record<string, unknown> }
  | { readonly kind: 'unreachable'; readonly reason: 'OFFLINE_NO_CACHE' | 'RATE_LIMITED' | 'SERVER_ERROR'; readonly status?: number; readonly retryAfterSeconds?: number; readonly message: string };

/** Fetched keys are looked up again for an unknown kid at most this often. */
const JWKS_REFETCH_MS = 60_000;

const fail = (reason: ClientFailureReason, message: string, extra: Omit<ClientFailure, 'ok' | 'reason' | 'message'> = {}): ClientFailure => ({
  ok: false,
  reason,
  message,
  ...extra,
});

/** The client. One per app and key binding; safe to share across calls. */
export class KeywardClient {
  readonly #settings: Settings;
  readonly #pinned: ReadonlyMap<string, ClientJwk>;
  readonly #fetched = new Map<string, ClientJwk>();
  #fetchedAt = -Infinity;
  readonly #file: TokenFile | null;

  constructor(options: KeywardClientOptions) {
    if (typeof options.serverUrl !== 'string' || !/^https?:\/\//.test(options.serverUrl)) throw new TypeError('keyward/client: serverUrl must be an http(s) URL');
    if (typeof options.product !== 'string' || options.product === '') throw new TypeError('keyward/client: product is required');
    if ((options.fingerprint === undefined) === (options.domain === undefined)) throw new TypeError('keyward/client: give exactly one of fingerprint and domain');
    const serverUrl = options.serverUrl.replace(/\/+$/, '');
    this.#settings = {
      serverUrl,
      product: options.product,
      ...(options.fingerprint === undefined ? {} : { fingerprint: options.fingerprint }),
      ...(options.domain === undefined ? {} : { domain: options.domain }),
      jwksUrl: options.jwksUrl ?? `${serverUrl}/.well-known/jwks.json`,
      clockSkewSeconds: options.clockSkewSeconds ?? 60,
      retry: retryPolicy(options.retry),
      timeoutMs: options.timeoutMs ?? 10_000,
      issuer: options.issuer ?? 'keyward',
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      clock: options.clock ?? (() => new Date()),
      random: options.random ?? Math.random,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    };
    this.#pinned = new Map((options.jwks?.keys ?? []).filter(isEd25519).map((key) => [key.kid, key]));
    this.#file = options.cacheFile === undefined ? null : new TokenFile(options.cacheFile);
  }

  /** Validates the key (on every launch): the server's answer, or offline the cached one. */
  async validate(key: string): Promise<ValidationResult | ClientFailure> {
    return this.#answer(key, '/v1/licenses/validate');
  }

  /** Keeps this machine's floating seat; answered like {@link validate}, with the new lease end. */
  async heartbeat(key: string): Promise<ValidationResult | ClientFailure> {
    return this.#answer(key, '/v1/licenses/heartbeat');
  }

  /** Takes a seat for this machine or domain (on a floating plan: checks one out). */
  async activate(key: string, options: { readonly label?: string } = {}): Promise<ActivationResult | ClientFailure> {
    const reply = await this.#post('/v1/licenses/activate', { key, ...this.#binding(), ...(options.label === undefined ? {} : { label: options.label }) });
    if (reply.kind === 'unreachable') return fail(reply.reason, reply.message, statusOf(reply));
    if (reply.status !== 200) return refusedBy(reply);
    const body = reply.body;
    return {
      ok: true,
      activationId: typeof body['activationId'] === 'string' ? body['activationId'] : null,
      alreadyActive: body['alreadyActive'] === true,
      ...(typeof body['leaseExpiresAt'] === 'string' ? { leaseExpiresAt: new Date(body['leaseExpiresAt']) } : {}),
      ...(typeof body['heartbeatSeconds'] === 'number' ? { heartbeatSeconds: body['heartbeatSeconds'] } : {}),
    };
  }

  /** Frees this machine's or domain's seat, and forgets the cached token. */
  async deactivate(key: string): Promise<DeactivationResult | ClientFailure> {
    const reply = await this.#post('/v1/licenses/deactivate', { key, ...this.#binding() });
    if (reply.kind === 'unreachable') return fail(reply.reason, reply.message, statusOf(reply));
    if (reply.status !== 200) return refusedBy(reply);
    await this.#file?.clear();
    return { ok: true };
  }

  #binding(): { fingerprint: string } | { domain: string } {
    const { fingerprint, domain } = this.#settings;
    return fingerprint !== undefined ? { fingerprint } : { domain: domain as string };
  }

  async #answer(key: string, path: string): Promise<ValidationResult | ClientFailure> {
    const reply = await this.#post(path, { key, product: this.#settings.product, ...this.#binding() });
    if (reply.kind === 'unreachable') return this.#fromCache(key, reply);
    if (reply.status !== 200) return refusedBy(reply);
    const { body } = reply;
    if (typeof body['token'] !== 'string' || typeof body['code'] !== 'string') return fail('BAD_ANSWER', 'The server answered without a signed token.', { status: 200 });
    const checked = await this.#check(body['token'], true);
    if (!checked.ok) return fail(checked.reason, `The server's token was refused: ${checked.reason}.`, { status: 200 });
    // The token, not the body, is the answer: the body is only as good as the token it carries.
    const claims = checked.claims;
    const result: ValidationResult = {
      ok: true,
      valid: claims.valid,
      code: claims.code,
      source: 'server',
      claims,
      token: body['token'],
      offlineUntil: new Date(claims.exp * 1000),
      ...(typeof body['leaseExpiresAt'] === 'string' ? { leaseExpiresAt: new Date(body['leaseExpiresAt']) } : {}),
      ...(typeof body['message'] === 'string' ? { message: body['message'] } : {}),
    };
    if (this.#file) {
      // Only a VALID answer may answer for the server later; any other answer ends the grace.
      if (claims.valid) await this.#file.write(await keyHashOf(key), body['token']);
      else await this.#file.clear();
    }
    return result;
  }

  async #fromCache(key: string, reply: Extract<Reply, { kind: 'unreachable' }>): Promise<ValidationResult | ClientFailure> {
    const extra = statusOf(reply);
    const token = this.#file ? await this.#file.read(await keyHashOf(key)) : null;
    if (token === null) return fail(reply.reason, reply.message, extra);
    if (this.#pinned.size === 0 && this.#fetched.size === 0) {
      return fail('OFFLINE_NO_KEYS', 'Offline, and no pinned keys to check the cached token with: pin the server’s JWKS in the app.', extra);
    }
    const checked = await this.#check(token, false);
    if (!checked.ok) return fail(checked.reason, `${reply.message} The cached token was refused: ${checked.reason}.`, extra);
    return { ok: true, valid: checked.claims.valid, code: checked.claims.code, source: 'cache', claims: checked.claims, token, offlineUntil: new Date(checked.claims.exp * 1000) };
  }

  /** Checks a token; online, an unknown kid fetches the published keys (at most once a minute). */
  async #check(token: string, online: boolean) {
    const expectations = {
      issuer: this.#settings.issuer,
      product: this.#settings.product,
      ...this.#binding(),
      now: this.#settings.clock(),
      clockSkewSeconds: this.#settings.clockSkewSeconds,
    };
    const kid = decodeToken(token)?.header['kid'];
    if (online && typeof kid === 'string' && !this.#pinned.has(kid) && !this.#fetched.has(kid)) await this.#fetchKeys();
    return verifyToken(token, new Map([...this.#fetched, ...this.#pinned]), expectations);
  }

  async #fetchKeys(): Promise<void> {
    const now = this.#settings.clock().getTime();
    if (now - this.#fetchedAt < JWKS_REFETCH_MS) return;
    this.#fetchedAt = now;
    try {
      const response = await this.#settings.fetch(this.#settings.jwksUrl, { signal: AbortSignal.timeout(this.#settings.timeoutMs) });
      if (!response.ok) return;
      const body = (await response.json()) as Partial<ClientJwks>;
      this.#fetched.clear();
      for (const key of Array.isArray(body.keys) ? body.keys : []) if (isEd25519(key)) this.#fetched.set(key.kid, key);
    } catch {
      // Unreachable keys leave the token unverifiable (UNKNOWN_KEY), never trusted.
    }
  }

  /** POSTs JSON with retries: network failures, 5xx and 429 are tried again; other answers are returned. */
  async #post(path: string, body: Record<string, unknown>): Promise<Reply> {
    const { retry, random, sleep, clock } = this.#settings;
    for (let attempt = 0; ; attempt++) {
      let retryAfter: number | undefined;
      let last: Extract<Reply, { kind: 'unreachable' }>;
      try {
        const response = await this.#settings.fetch(`${this.#settings.serverUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.#settings.timeoutMs),
        });
        const text = await response.text();
        if (response.status === 429) {
          retryAfter = retryAfterSeconds(response.headers.get('retry-after'), clock());
          last = { kind: 'unreachable', reason: 'RATE_LIMITED', status: 429, ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }), message: 'The server is rate-limiting this client.' };
        } else if (response.status >= 500) {
          last = { kind: 'unreachable', reason: 'SERVER_ERROR', status: response.status, message: `The server failed (HTTP ${response.status}).` };
        } else {
          return { kind: 'answer', status: response.status, body: parseObject(text) };
        }
      } catch (error) {
        last = { kind: 'unreachable', reason: 'OFFLINE_NO_CACHE', message: `The server could not be reached (${error instanceof Error ? error.message : String(error)}).` };
      }
      const delay = delayBeforeRetry(retry, attempt, random, retryAfter);
      if (delay === null) return last;
      await sleep(delay);
    }
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function isEd25519(key: unknown): key is ClientJwk {
  if (typeof key !== 'object' || key === null) return false;
  const jwk = key as Record<string, unknown>;
  return jwk['kty'] === 'OKP' && jwk['crv'] === 'Ed25519' && typeof jwk['x'] === 'string' && typeof jwk['kid'] === 'string';
}

function statusOf(reply: { status?: number; retryAfterSeconds?: number }): Omit<ClientFailure, 'ok' | 'reason' | 'message'> {
  return { ...(reply.status === undefined ? {} : { status: reply.status }), ...(reply.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: reply.retryAfterSeconds }) };
}

/** A 4xx answer: the server's error code and message. */
function refusedBy(reply: { status: number; body: Record<string, unknown> }): ClientFailure {
  const error = (reply.body['error'] ?? {}) as { code?: unknown; message?: unknown };
  return fail('REQUEST_REFUSED', typeof error.message === 'string' ? error.message : `The server refused the request (HTTP ${reply.status}).`, {
    status: reply.status,
    ...(typeof error.code === 'string' ? { code: error.code as ServerErrorCode } : {}),
  });
}

/** Creates a client; see {@link KeywardClientOptions}. */
export function createKeywardClient(options: KeywardClientOptions): KeywardClient {
  return new KeywardClient(options);
}
