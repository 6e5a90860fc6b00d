/** The CLI's configuration: each bad variable is named (its value never echoed); the shipped catalogue loads. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliConfig } from '../../cli/cli-config.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const VALID = {
  MONGODB_URL: 'mongodb://127.0.0.1:27017',
  KEYWARD_DIGEST_SECRET: 'digest-secret-for-the-cli-config-tests-0123456789',
  KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyward-config-'));
  await writeFile(join(dir, 'broken.json'), '{ "plans": [');
  await writeFile(join(dir, 'bad-plan.json'), JSON.stringify({ plans: [{ id: 'x', rank: 1, limits: { maxActivations: 0, maxDomains: null, validationsPerMonth: null } }] }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseCliConfig', () => {
  it('reads the variables and the default catalogue, config/plans.json', () => {
    const config = parseCliConfig({ ...VALID, REDIS_URL: '' }, root);
    expect(config).toMatchObject({ mongoUrl: VALID.MONGODB_URL, mongoDb: 'keyward', redisUrl: null, plansFile: join(root, 'config/plans.json') });
    expect(config.plans.plans.map((plan) => plan.id).sort()).toEqual(['metered', 'pro', 'starter', 'team', 'web']);
    expect(config.plans.get('starter')).toMatchObject({ limits: { maxActivations: 1 }, trialDays: 14 });
    expect(config.plans.get('team')?.limits.maxActivations).toBe(25);
    expect(config.plans.get('web')?.limits.maxDomains).toBe(3);
    expect(config.plans.get('metered')?.limits.validationsPerMonth).toBeGreaterThan(0);
  });

  it('accepts a base64 encryption key and a Redis URL', () => {
    const key = Buffer.from(VALID.KEYWARD_ENCRYPTION_KEY, 'hex').toString('base64');
    const config = parseCliConfig({ ...VALID, KEYWARD_ENCRYPTION_KEY: key, REDIS_URL: 'redis://localhost:6379', MONGODB_DB: 'licenses' }, root);
    expect(config).toMatchObject({ redisUrl: 'redis://localhost:6379', mongoDb: 'licenses' });
  });

  it.each([
    [{ MONGODB_URL: undefined }, 'MONGODB_URL', /MONGODB_URL: is required but not set/],
    [{ MONGODB_URL: 'postgres://db' }, 'MONGODB_URL', /MONGODB_URL: must be a mongodb/],
    [{ MONGODB_DB: 'no spaces please' }, 'MONGODB_DB', /MONGODB_DB: must be 1-63/],
    [{ REDIS_URL: 'http://cache' }, 'REDIS_URL', /REDIS_URL: must be a redis/],
    [{ KEYWARD_DIGEST_SECRET: 'too-short-secret' }, 'KEYWARD_DIGEST_SECRET', /KEYWARD_DIGEST_SECRET: must be at least 32 bytes/],
    [{ KEYWARD_DIGEST_SECRET: 'a'.repeat(64) }, 'KEYWARD_DIGEST_SECRET', /KEYWARD_DIGEST_SECRET: is too weak/],
    [{ KEYWARD_ENCRYPTION_KEY: 'abc123' }, 'KEYWARD_ENCRYPTION_KEY', /KEYWARD_ENCRYPTION_KEY: must be 32 bytes/],
    [{ KEYWARD_PLANS_FILE: 'nowhere.json' }, 'KEYWARD_PLANS_FILE', /KEYWARD_PLANS_FILE: cannot read/],
    [{ KEYWARD_PLANS_FILE: 'broken.json' }, 'KEYWARD_PLANS_FILE', /KEYWARD_PLANS_FILE: .*not valid JSON/],
    [{ KEYWARD_PLANS_FILE: 'bad-plan.json' }, 'KEYWARD_PLANS_FILE', /plans\[0\]\.limits\.maxActivations/],
  ])('names the bad variable: %o', (override, field, message) => {
    expect(() => parseCliConfig({ ...VALID, ...override }, dir)).toThrow(expect.objectContaining({ name: 'ConfigurationError', context: { field } }));
    expect(() => parseCliConfig({ ...VALID, ...override }, dir)).toThrow(message);
  });

  it('lists every bad variable at once, without echoing a value', () => {
    const secret = 'short-but-secret';
    expect(() => parseCliConfig({ KEYWARD_DIGEST_SECRET: secret }, root)).toThrow(
      'MONGODB_URL: is required but not set; KEYWARD_DIGEST_SECRET: must be at least 32 bytes; make one with `openssl rand -hex 32`; KEYWARD_ENCRYPTION_KEY: is required but not set',
    );
    try {
      parseCliConfig({ ...VALID, KEYWARD_DIGEST_SECRET: secret }, root);
    } catch (error) {
      expect(String(error)).not.toContain(secret);
    }
  });
});
