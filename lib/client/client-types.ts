/**
 * What `keyward/client` answers: typed results with the server's closed codes. A refused key is
 * a normal value (`{ ok: true, valid: false, code: 'REVOKED' }`); `ok: false` means no answer
 * could be trusted, with the reason.
 */
import type { LifecycleRefusalCode } from '../lifecycle/outcome.js';
import type { ValidationCode } from '../validation/validation-code.js';

export type { ValidationCode } from '../validation/validation-code.js';

/** A published Ed25519 key (from `/.well-known/jwks.json`). */
export interface ClientJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg?: string;
  readonly use?: string;
}

/** A key set as published. */
export interface ClientJwks {
  readonly keys: readonly ClientJwk[];
}

/** The claims of a validation token. Times in seconds since the epoch. */
export interface TokenClaims {
  readonly iss: string;
  /** The product. */
  readonly aud: string;
  /** The license id. */
  readonly sub?: string;
  readonly iat: number;
  /** The end of the offline grace: the client never answers from this token at or after it. */
  readonly exp: number;
  readonly valid: boolean;
  readonly code: ValidationCode;
  readonly plan?: string;
  readonly features?: readonly string[];
  readonly licenseExpiresAt?: number | null;
  readonly fingerprint?: string;
  readonly domain?: string;
}

/** Why a token was refused. */
export type TokenRefusal =
  | 'MALFORMED_TOKEN'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'WRONG_ISSUER'
  | 'WRONG_PRODUCT'
  | 'WRONG_MACHINE'
  | 'WRONG_DOMAIN'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID';

/**
 * Why no answer could be given: a token refusal, or
 * - `OFFLINE_NO_CACHE`: the server could not be reached and no cached token exists for this key;
 * - `OFFLINE_NO_KEYS`: offline, and no pinned or already-fetched keys to check the cached token;
 * - `RATE_LIMITED`: the server said 429 longer than the client may wait, and no cached answer;
 * - `REQUEST_REFUSED`: the server refused the request (`code` says why, e.g. ACTIVATION_LIMIT_REACHED);
 * - `SERVER_ERROR`: the server kept failing (5xx) and no cached answer;
 * - `BAD_ANSWER`: the server's answer was not a validation answer.
 */
export type ClientFailureReason = TokenRefusal | 'OFFLINE_NO_CACHE' | 'OFFLINE_NO_KEYS' | 'RATE_LIMITED' | 'REQUEST_REFUSED' | 'SERVER_ERROR' | 'BAD_ANSWER';

/** Codes the server refuses client requests with (lifecycle refusals and request errors). */
export type ServerErrorCode =
  | LifecycleRefusalCode
  | 'NOT_FOUND'
  | 'MALFORMED_KEY'
  | 'INVALID_REQUEST'
  | 'INVALID_JSON'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'CONCURRENT_UPDATE'
  | 'SERVICE_UNAVAILABLE'
  | 'DATASTORE_UNAVAILABLE'
  | 'INTERNAL';

/** No trustworthy answer. */
export interface ClientFailure {
  readonly ok: false;
  readonly reason: ClientFailureReason;
  readonly message: string;
  /** The server's error code, when it refused the request. */
  readonly code?: ServerErrorCode;
  /** HTTP status of the last answer, when there was one. */
  readonly status?: number;
  /** Seconds the server asked to wait (429). */
  readonly retryAfterSeconds?: number;
}

/** A validation answer, checked. */
export interface ValidationResult {
  readonly ok: true;
  readonly valid: boolean;
  readonly code: ValidationCode;
  /** `server`: answered now; `cache`: offline, from the last good token (valid until `offlineUntil`). */
  readonly source: 'server' | 'cache';
  readonly claims: TokenClaims;
  readonly token: string;
  /** The token's exp: how long this answer may be relied on offline. */
  readonly offlineUntil: Date;
  /** A floating seat's lease end: heartbeat before it. */
  readonly leaseExpiresAt?: Date;
  /** The server's sentence for the user (server answers only). */
  readonly message?: string;
}

/** A seat taken (or, on a floating plan, checked out). */
export interface ActivationResult {
  readonly ok: true;
  readonly activationId: string | null;
  readonly alreadyActive: boolean;
  /** Floating seats: heartbeat before this. */
  readonly leaseExpiresAt?: Date;
  /** Floating seats: the plan's interval. */
  readonly heartbeatSeconds?: number;
}

/** A seat freed. */
export interface DeactivationResult {
  readonly ok: true;
}
