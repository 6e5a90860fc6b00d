/**
 * Keyward without the HTTP server: one call that wires the MongoDB store, the cache (with
 * Redis pub/sub invalidation when Redis is given), quotas and token signing, for developers
 * embedding license management in their own backend.
 */
import type { KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { ValidationEvent } from '../events/validation-event.js';
import { createKeyCipher } from '../keys/key-cipher.js';
import { DEFAULT_KEY_TYPES, type KeyTypeSet } from '../keys/key-type.js';
import { loadPlanCatalogue, type PlanCatalogue } from '../plans/plan-catalogue.js';
import { MongoCustomerStore } from '../store/mongo-customer-store.js';
import { MongoLicenseStore } from '../store/mongo-license-store.js';
import { MongoTrialRegistrationStore } from '../store/mongo-trial-registration-store.js';
import { RedisInvalidationBus } from '../store/redis-invalidation-bus.js';
import { RedisUsageStore } from '../store/redis-usage-store.js';
import type { InvalidationBus } from './invalidation-bus.js';
import type { License } from '../lifecycle/license.js';
import { CoalescedLoader } from './coalesced-loader.js';
import { LicenseCache } from './license-cache.js';
import { LicenseService } from './license-service.js';
import type { SigningKeySet, VerificationKeyOptions } from '../tokens/signing-key-set.js';
import { TokenSigner } from './token-signer.js';
import { createTrialRecorder } from './trial-recorder.js';
import { UsageCounter } from './usage-counter.js';
import { ValidationService } from './validation-service.js';

/** Options for {@link createKeyward}. */
export interface KeywardOptions {
  /** MongoDB database. Required. */
  readonly db: Db;
  /**
   * Redis, for cache invalidation across instances and shared quota counts. Optional: without
   * it each process invalidates only its own cache (other instances see a change after at most
   * `cache.maxStaleMs`) and counts quotas alone.
   */
  readonly redis?: Redis;
  /** The plan catalogue, loaded or as plain data (checked with loadPlanCatalogue). Required. */
  readonly plans: PlanCatalogue | unknown;
  /** Secrets, from the environment. Required. */
  readonly secrets: {
    /** HMAC secret for key digests, at least 32 bytes. */
    readonly digest: string;
    /** AES-256 key for keys at rest: 32 bytes as 64 hex or 44 base64 characters. */
    readonly encryption: string;
  };
  /**
   * Token signing; without it answers carry no token. `privateKey`: Ed25519, as a KeyObject, a
   * PKCS#8 PEM, the base64 of that PEM or of its DER. `keyId`: its `kid` (default `k1`).
   * `ttlSeconds`: token lifetime (default 259,200). `others`: next and retired public keys,
   * published beside it for rotation (docs/library.md).
   */
  readonly signing?: {
    readonly privateKey: KeyObject | string;
    readonly keyId?: string;
    readonly ttlSeconds?: number;
    readonly others?: readonly VerificationKeyOptions[];
  };
  /** Key types. Default `TO-` production and `TO-T-` trial. */
  readonly keyTypes?: KeyTypeSet;
  /**
   * Cache bounds: `maxEntries` (default 200,000), `maxStaleMs` (default 5,000), and
   * `refreshAheadMs`, how long before `maxStaleMs` runs out a license in use is reloaded in the
   * background (default: a fifth of `maxStaleMs`, at most 1,000; 0 turns it off), and
   * `maxBatchSize`, most cache misses loaded in one query (default 256).
   */
  readonly cache?: { readonly maxEntries?: number; readonly maxStaleMs?: number; readonly refreshAheadMs?: number; readonly maxBatchSize?: number };
  /** Validity after the period end, in ms. Default 0. */
  readonly expiryGraceMs?: number;
  /** Receives one event per validation (the server passes its Redis stream sink). */
  readonly onValidation?: (event: ValidationEvent) => void;
  /** Called with background failures (Redis down for quota sync or invalidations). */
  readonly onError?: (error: unknown) => void;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Prefix of collection names. Default ``. */
  readonly collectionPrefix?: string;
}

/** A wired Keyward. */
export interface Keyward {
  readonly licenses: LicenseService;
  readonly validation: ValidationService;
  readonly cache: LicenseCache;
  readonly usage: UsageCounter;
  readonly plans: PlanCatalogue;
  readonly keyTypes: KeyTypeSet;
  /**
   * Trials issued through `licenses` (admin API, CLI, this library) and what their activations
   * show, marked pending until a worker's trial watch evaluates them (docs/abuse-detection.md).
   */
  readonly trialRegistrations: MongoTrialRegistrationStore;
  /** The keys that sign and verify tokens (published as JWKS); `null` without `signing`. */
  readonly signingKeys: SigningKeySet | null;
  /** The time by the clock it was given. */
  now(): Date;
  /** Flushes quota counts and unsubscribes (does not close the clients it was given). */
  close(): Promise<void>;
}

function isCatalogue(plans: unknown): plans is PlanCatalogue {
  return typeof plans === 'object' && plans !== null && typeof (plans as PlanCatalogue).get === 'function';
}

/** Builds the store, cache, services and their wiring; creates the indexes. */
export async function createKeyward(options: KeywardOptions): Promise<Keyward> {
  const plans = isCatalogue(options.plans) ? options.plans : loadPlanCatalogue(options.plans);
  const keyTypes = options.keyTypes ?? DEFAULT_KEY_TYPES;
  const onError = options.onError ?? (() => undefined);
  const clock = options.clock ?? (() => new Date());
  const store = new MongoLicenseStore({
    db: options.db,
    ...(options.collectionPrefix === undefined ? {} : { collectionPrefix: options.collectionPrefix }),
  });
  await store.ensureIndexes();
  const collections = { db: options.db, ...(options.collectionPrefix === undefined ? {} : { collectionPrefix: options.collectionPrefix }) };
  const trialRegistrations = new MongoTrialRegistrationStore(collections);
  await trialRegistrations.ensureIndexes();
  // Cache misses of one moment go to MongoDB as one query (coalesced-loader.ts).
  const loader = new CoalescedLoader<License>({
    loadMany: (digests) => store.findLicensesByDigests(digests),
    ...(options.cache?.maxBatchSize === undefined ? {} : { maxBatchSize: options.cache.maxBatchSize }),
  });
  const { maxBatchSize: _maxBatchSize, ...cacheBounds } = options.cache ?? {};
  const cache = new LicenseCache({ load: (digest) => loader.load(digest), ...cacheBounds });
  let bus: InvalidationBus | undefined;
  if (options.redis) {
    const subscriber = options.redis.duplicate();
    // A duplicate has no listeners of its own: without one, reconnect errors are printed raw.
    subscriber.on('error', onError);
    bus = new RedisInvalidationBus({ publisher: options.redis, subscriber, onError });
    await bus.subscribe((digest) => cache.invalidate(digest));
  }
  const usage = new UsageCounter({
    ...(options.redis ? { store: new RedisUsageStore({ redis: options.redis }) } : {}),
    onError,
  });
  const licenses = new LicenseService({
    store,
    plans,
    keyTypes,
    clock,
    digestSecret: options.secrets.digest,
    keyCipher: createKeyCipher(options.secrets.encryption),
    trials: createTrialRecorder({ registrations: trialRegistrations, customers: new MongoCustomerStore(collections) }),
    onError,
    onChange: (digest) => {
      cache.invalidate(digest);
      bus?.publish(digest);
    },
  });
  const signer = options.signing ? new TokenSigner(options.signing) : undefined;
  const validation = new ValidationService({
    cache,
    usage,
    keyTypes,
    clock,
    digestSecret: options.secrets.digest,
    ...(signer ? { signer } : {}),
    ...(options.expiryGraceMs === undefined ? {} : { expiryGraceMs: options.expiryGraceMs }),
    ...(options.onValidation ? { onEvent: options.onValidation } : {}),
  });
  return {
    licenses,
    validation,
    cache,
    usage,
    plans,
    keyTypes,
    trialRegistrations,
    signingKeys: signer?.keySet ?? null,
    now: clock,
    async close() {
      await usage.close();
      await bus?.close();
    },
  };
}
