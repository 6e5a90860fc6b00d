/**
 * A Keyward wired to the test run's real MongoDB (a fresh database per fixture) and Redis,
 * with a settable clock, for service and route tests.
 */
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { generateTokenKeyPair } from '../../lib/tokens/validation-token.js';
import { createKeyward, type Keyward, type KeywardOptions } from '../../lib/service/create-keyward.js';
import { mongoUrl, redisUrl, uniqueName } from '../setup/services.js';

/** Plans used across tests: a 3-seat plan, a domain plan, a quota plan, an unbounded plan, 2 floating seats. */
export const TEST_PLANS = {
  plans: [
    { id: 'basic', rank: 1, limits: { maxActivations: 1, maxDomains: null, validationsPerMonth: null }, trialDays: 14 },
    { id: 'pro', rank: 2, limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null }, features: ['export'], trialDays: 14 },
    { id: 'web', rank: 3, limits: { maxActivations: null, maxDomains: 2, validationsPerMonth: null } },
    { id: 'metered', rank: 4, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: 5 } },
    { id: 'open', rank: 5, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: null } },
    { id: 'floating', rank: 6, limits: { maxActivations: 2, maxDomains: null, validationsPerMonth: null, floating: { heartbeatSeconds: 60 } } },
  ],
};

export const TEST_SECRETS = { digest: 'd'.repeat(48), encryption: '0f'.repeat(32) };

/** A running fixture. */
export interface KeywardFixture {
  readonly keyward: Keyward;
  readonly db: Db;
  readonly redis: Redis;
  readonly publicKey: string;
  /** Moves the fixture's clock. */
  setNow(iso: string): void;
  close(): Promise<void>;
}

/** Starts a Keyward on a fresh database; close() drops it. */
export async function startKeyward(overrides: Partial<KeywardOptions> = {}): Promise<KeywardFixture> {
  const client = await new MongoClient(mongoUrl()).connect();
  const db = client.db(uniqueName('kw'));
  const redis = new Redis(redisUrl());
  const { privateKey, publicKey } = generateTokenKeyPair();
  let now: Date | null = null;
  const keyward = await createKeyward({
    db,
    redis,
    plans: TEST_PLANS,
    secrets: TEST_SECRETS,
    signing: { privateKey },
    clock: () => now ?? new Date(),
    ...overrides,
  });
  return {
    keyward,
    db,
    redis,
    publicKey,
    setNow: (iso) => {
      now = new Date(iso);
    },
    async close() {
      await keyward.close();
      await db.dropDatabase();
      await client.close();
      await redis.quit();
    },
  };
}
