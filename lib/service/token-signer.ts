/**
 * Signs validation answers, reusing a recent token for the same answer: an Ed25519 signature
 * costs tens of microseconds, more than the rest of a cached validation, and clients that
 * validate on every launch get the same answer again and again.
 */
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ConfigurationError } from '../errors/keyward-error.js';
import { createSigningKeySet, type SigningKeySet, type VerificationKeyOptions } from '../tokens/signing-key-set.js';
import { signValidationToken } from '../tokens/validation-token.js';
import type { ValidationDecision } from '../validation/decide-validation.js';

/** Options for {@link TokenSigner}. */
export interface TokenSignerOptions {
  /** Ed25519 private key (KeyObject, PKCS#8 PEM, its base64, or base64 DER). Required. */
  readonly privateKey: KeyObject | string;
  /** Key id of the private key, in every token header and in the published key set. Default `k1`. */
  readonly keyId?: string;
  /** Next and retired keys, published and verifying beside the signing key (rotation). Default none. */
  readonly others?: readonly VerificationKeyOptions[];
  /** Token lifetime: how long a client may trust a cached answer offline. Default 259,200 s (3 days). */
  readonly ttlSeconds?: number;
  /** How long one signed token is handed out again for the same answer, in seconds. Default 60. */
  readonly reuseSeconds?: number;
  /** Answers kept for reuse (the keys validated again within the reuse window). Default 20,000. */
  readonly maxCached?: number;
}

/** What a token is bound to: the machine or domain asked for, the product, and a floating seat's lease end. */
export interface TokenBinding {
  readonly fingerprint?: string;
  readonly domain?: string;
  readonly product?: string;
  readonly notAfter?: Date;
}

/** A decision with its signed token. */
export type SignedAnswer = ValidationDecision & { readonly token: string };

/** Signs validation tokens, with reuse of identical recent answers. */
export class TokenSigner {
  readonly #options: TokenSignerOptions;
  readonly #recent: LRUCache<string, SignedAnswer>;
  /** The signing key and the keys published beside it. */
  readonly keySet: SigningKeySet;

  constructor(options: TokenSignerOptions) {
    const reuseSeconds = options.reuseSeconds ?? 60;
    const ttlSeconds = options.ttlSeconds ?? 259_200;
    if (!Number.isInteger(reuseSeconds) || reuseSeconds < 0 || reuseSeconds >= ttlSeconds) {
      throw new ConfigurationError('tokens.reuseSeconds', 'must be a non-negative integer smaller than the token lifetime');
    }
    this.#options = { ...options, ttlSeconds };
    // Read every key now, once (parsing a PEM costs more than signing with it): a bad key stops
    // start-up rather than the first validation.
    this.keySet = createSigningKeySet({
      privateKey: options.privateKey,
      ...(options.keyId === undefined ? {} : { keyId: options.keyId }),
      ...(options.others === undefined ? {} : { others: options.others }),
    });
    this.#recent = new LRUCache<string, SignedAnswer>({ max: options.maxCached ?? 20_000, ttl: Math.max(1, reuseSeconds * 1000) });
  }

  /**
   * A token for this answer. `reuseKey` identifies the answer (license, version, code, binding);
   * without it, or with reuse off, a fresh token is signed.
   */
  sign(decision: ValidationDecision, now: Date, binding: TokenBinding, reuseKey?: string): string {
    return this.signAnswer(decision, now, binding, reuseKey).token;
  }

  /**
   * The decision with its token. Within the reuse window the same `reuseKey` gives back the same
   * object (an identical decision is assumed: the key must identify everything the decision
   * depends on), so callers can also keep what they derive from it, such as its JSON text.
   */
  signAnswer(decision: ValidationDecision, now: Date, binding: TokenBinding, reuseKey?: string): SignedAnswer {
    if (reuseKey !== undefined) {
      const cached = this.#recent.get(reuseKey);
      if (cached !== undefined) return cached;
    }
    const token = signValidationToken(decision, now, {
      privateKey: this.keySet.signing.privateKey,
      keyId: this.keySet.signing.kid,
      ttlSeconds: this.#options.ttlSeconds as number,
      ...(binding.product === undefined ? {} : { product: binding.product }),
      ...(binding.notAfter === undefined ? {} : { notAfter: binding.notAfter }),
      ...(binding.fingerprint === undefined ? {} : { fingerprint: binding.fingerprint }),
      ...(binding.domain === undefined ? {} : { domain: binding.domain }),
    });
    const answer: SignedAnswer = { ...decision, token };
    if (reuseKey !== undefined && (this.#options.reuseSeconds ?? 60) > 0) this.#recent.set(reuseKey, answer);
    return answer;
  }
}
