/**
 * The validation hot path, in the order the rules apply:
 *   parse the key (no I/O) → digest → cached license → usage so far (in memory) → decide
 *   (pure) → count the validation → hand the event to the sink (never awaited) → sign (reusing
 *   a recent answer and its token).
 * Nothing here waits on Redis: quotas sync in the background and events are buffered. With the
 * license in the cache nothing waits at all: {@link ValidationService.validateCached} answers
 * synchronously.
 */
import type { ValidationEvent } from '../events/validation-event.js';
import { keyDigester } from '../keys/key-digest.js';
import { DEFAULT_KEY_TYPES, type KeyTypeSet } from '../keys/key-type.js';
import { parseKey, type ParseKeyResult } from '../keys/parse-key.js';
import type { License } from '../lifecycle/license.js';
import { decideValidation, type ValidationDecision } from '../validation/decide-validation.js';
import type { LicenseCache } from './license-cache.js';
import type { TokenSigner } from './token-signer.js';
import type { UsageCounter } from './usage-counter.js';
import { newEventId } from '../events/new-event-id.js';

/** Options for {@link ValidationService}. */
export interface ValidationServiceOptions {
  readonly cache: LicenseCache;
  /** HMAC secret for key digests. */
  readonly digestSecret: string;
  readonly usage: UsageCounter;
  /** Signs tokens; without one, answers carry no token. */
  readonly signer?: TokenSigner;
  /** Key types. Default `TO-` production and `TO-T-` trial. */
  readonly keyTypes?: KeyTypeSet;
  /** Validity after the period end, in ms (webhooks for renewals arrive late). Default 0. */
  readonly expiryGraceMs?: number;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Receives one event per validation; must not block (see RedisStreamEventSink). */
  readonly onEvent?: (event: ValidationEvent) => void;
}

/** What the client claims in the body. */
export interface ValidationInput {
  readonly key: unknown;
  readonly fingerprint?: string | undefined;
  readonly product?: string | undefined;
  readonly domain?: string | undefined;
}

/** What the server saw of the request. */
export interface RequestContext {
  readonly ip: string;
  readonly origin: string | null;
  readonly referer: string | null;
  readonly userAgent: string | null;
}

/** A parsed key and its digest, made once per request (the route rate-limits by digest). */
export interface PreparedKey {
  readonly parsed: ParseKeyResult;
  /** Null when the key is malformed. */
  readonly digest: string | null;
}

/** The answer to a validation: the decision and, with a signer, its token. */
export type ValidationAnswer = ValidationDecision & { readonly token?: string };

/** Decides validations against cached licenses. */
export class ValidationService {
  readonly #options: ValidationServiceOptions;
  readonly #keyTypes: KeyTypeSet;
  readonly #clock: () => Date;
  readonly #digest: (key: string) => string;
  /** JSON text of answers that may be handed out again (see {@link answerJson}). */
  readonly #texts = new WeakMap<ValidationAnswer, string>();

  constructor(options: ValidationServiceOptions) {
    this.#options = options;
    this.#keyTypes = options.keyTypes ?? DEFAULT_KEY_TYPES;
    this.#clock = options.clock ?? (() => new Date());
    this.#digest = keyDigester(options.digestSecret); // fails fast on a weak secret
  }

  /** Parses and digests a key as sent. */
  prepare(key: unknown): PreparedKey {
    const parsed = parseKey(key, this.#keyTypes);
    return { parsed, digest: parsed.ok ? this.#digest(parsed.key) : null };
  }

  /**
   * Validates a prepared key when the answer needs no store read (a malformed key, or a license
   * the cache holds fresh enough); undefined when it does, and then {@link validate} is the way.
   * The hot path: no promise, no await.
   */
  validateCached(prepared: PreparedKey, input: ValidationInput, context: RequestContext): ValidationAnswer | undefined {
    if (prepared.digest === null) return this.#answer(null, prepared, input, context);
    const license = this.#options.cache.peek(prepared.digest);
    return license === undefined ? undefined : this.#answer(license, prepared, input, context);
  }

  /** Validates a prepared key. */
  async validate(prepared: PreparedKey, input: ValidationInput, context: RequestContext): Promise<ValidationAnswer> {
    const cached = this.validateCached(prepared, input, context);
    if (cached !== undefined) return cached;
    return this.validateUncached(prepared, input, context);
  }

  /**
   * Validates a prepared key that {@link validateCached} just answered undefined for (the cache
   * miss path): loads the license, coalesced with the other misses of this moment
   * (coalesced-loader.ts), without looking in the cache again.
   */
  async validateUncached(prepared: PreparedKey, input: ValidationInput, context: RequestContext): Promise<ValidationAnswer> {
    if (prepared.digest === null) return this.#answer(null, prepared, input, context);
    const license = await this.#options.cache.load(prepared.digest);
    return this.#answer(license, prepared, input, context);
  }

  /** Validates a key as sent, parsing it on the way: the one call for embedding apps. */
  async validateKey(input: ValidationInput, context: RequestContext): Promise<ValidationAnswer> {
    return this.validate(this.prepare(input.key), input, context);
  }

  /**
   * The answer as JSON text. An answer handed out again within the token reuse window is the same
   * object, and its text is kept with it (for as long as the object lives), so it is serialised once.
   */
  answerJson(answer: ValidationAnswer): string {
    let text = this.#texts.get(answer);
    if (text === undefined) {
      text = JSON.stringify(answer);
      // Only answers with a license and a token are handed out again; a flood of unknown keys
      // must not fill the weak map with objects used once.
      if (answer.token !== undefined && answer.license !== undefined) this.#texts.set(answer, text);
    }
    return text;
  }

  #answer(license: License | null, prepared: PreparedKey, input: ValidationInput, context: RequestContext): ValidationAnswer {
    const { usage, signer } = this.#options;
    const now = this.#clock();
    const quota = license?.limits.validationsPerMonth ?? null;
    const decision = decideValidation(
      license,
      {
        ...(prepared.parsed.ok ? {} : { malformed: prepared.parsed.error }),
        ...(input.product === undefined ? {} : { product: input.product }),
        ...(input.fingerprint === undefined ? {} : { fingerprint: input.fingerprint }),
        ...(input.domain === undefined ? {} : { domain: input.domain }),
        ...(license && quota !== null ? { validationsThisMonth: usage.current(license.id, now) } : {}),
      },
      now,
      { expiryGraceMs: this.#options.expiryGraceMs ?? 0 },
    );
    if (license && quota !== null && decision.valid) usage.increment(license.id, now);
    // The id is given here, where the event object is made, so that the sink need not copy it.
    this.#options.onEvent?.({
      eid: newEventId(),
      at: now.getTime(),
      licenseId: license?.id ?? null,
      keyDigest: prepared.digest,
      ip: context.ip,
      origin: context.origin,
      referer: context.referer,
      domain: input.domain ?? null,
      fingerprint: input.fingerprint ?? null,
      product: input.product ?? null,
      userAgent: context.userAgent,
      code: decision.code,
    });
    if (signer === undefined) return decision;
    const binding = {
      ...(input.fingerprint === undefined ? {} : { fingerprint: input.fingerprint }),
      ...(input.domain === undefined ? {} : { domain: input.domain }),
      ...(input.product === undefined ? {} : { product: input.product }),
      // A floating seat's token ends with its lease: offline grace cannot outlast the seat.
      ...(decision.leaseExpiresAt === undefined ? {} : { notAfter: decision.leaseExpiresAt }),
    };
    // Everything the decision depends on: the license version, the code and the binding.
    const reuseKey = license
      ? `${license.id}:${license.version}:${decision.code}:${input.fingerprint ?? ''}:${input.domain ?? ''}:${input.product ?? ''}`
      : undefined;
    return signer.signAnswer(decision, now, binding, reuseKey);
  }
}
