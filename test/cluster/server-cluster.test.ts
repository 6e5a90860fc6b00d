/**
 * The server on every core (server/cluster.ts): N processes on one port stay one server to
 * their clients.
 *
 * Invariants:
 * - WEB_CONCURRENCY names the number of processes; unset means one per core; anything else
 *   stops start-up with the variable's name;
 * - a suspension written anywhere reaches every process through the invalidation bus: with
 *   the staleness bound set far beyond the test, no process answers VALID once it has seen it,
 *   and every process sees it;
 * - the per-IP limit holds across processes to within its documented tolerance: each process
 *   learns the shared count when it pushes its own (every 100 ms), so the processes together
 *   admit at most the limit plus the requests sent while a push was outstanding;
 * - a monthly quota holds the same way (counts pushed every second);
 * - a process that dies is replaced by the primary.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { createKeyward, type Keyward } from '../../lib/service/create-keyward.js';
import { parseProcessCount } from '../../server/cluster.js';
import { mongoUrl, redisUrl } from '../setup/services.js';
import { TEST_PLANS } from '../support/keyward-fixture.js';
import { startServerCluster, type ServerCluster } from '../support/server-cluster.js';

describe('WEB_CONCURRENCY', () => {
  it.each([
    [undefined, 8, 8],
    ['', 2, 2],
    ['1', 8, 1],
    ['4', 2, 4],
  ])('%j on %i cores gives %i processes', (given, cores, expected) => {
    expect(parseProcessCount(given === undefined ? {} : { WEB_CONCURRENCY: given }, cores)).toBe(expected);
  });

  it.each(['0', '-2', '1.5', 'many', '2000'])('refuses %j, naming the variable', (given) => {
    expect(() => parseProcessCount({ WEB_CONCURRENCY: given }, 2)).toThrow(ConfigurationError);
    expect(() => parseProcessCount({ WEB_CONCURRENCY: given }, 2)).toThrow(/WEB_CONCURRENCY/);
  });
});

describe('two server processes on one port', () => {
  const LIMIT = 30;
  let cluster: ServerCluster;
  let mongo: MongoClient;
  let redis: Redis;
  let keyward: Keyward;

  beforeAll(async () => {
    // A staleness bound far beyond the test: only the invalidation bus can make a process see a change.
    cluster = await startServerCluster(2, { CACHE_MAX_STALE_MS: '600000', RATE_LIMIT_PER_IP_PER_MINUTE: String(LIMIT) });
    mongo = await new MongoClient(mongoUrl()).connect();
    redis = new Redis(redisUrl());
    // Writes as an admin would from any process: through a Keyward on the same database and Redis.
    keyward = await createKeyward({ db: mongo.db(cluster.mongoDb), redis, plans: TEST_PLANS, secrets: cluster.secrets });
  });
  afterAll(async () => {
    await cluster?.stop();
    await keyward?.close();
    await redis?.quit();
    await mongo?.close();
  });

  it('shows a suspension to every process, and no process answers VALID after it has', async () => {
    const issued = await keyward.licenses.issue({ planId: 'open', periodEndsAt: new Date(Date.now() + 30 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.code);
    const { key } = issued.value;
    // Each client its own address, so the low test limit does not refuse these.
    let client = 0;
    const validate = () => cluster.post('/v1/licenses/validate', { key }, { 'x-forwarded-for': `198.51.100.${(client++ % 250) + 1}` });

    // Every process caches the license as valid.
    const cached = new Map<string, number>();
    while (cached.size < 2 || [...cached.values()].some((count) => count < 2)) {
      const answer = await validate();
      expect(answer.body['code']).toBe('VALID');
      cached.set(answer.process, (cached.get(answer.process) ?? 0) + 1);
    }

    const suspended = await keyward.licenses.apply(issued.value.record.license.id, { type: 'suspend', reason: 'manual', note: 'cluster test' });
    expect(suspended.ok).toBe(true);

    const seen = new Set<string>();
    await vi.waitFor(
      async () => {
        const answer = await validate();
        if (seen.has(answer.process)) expect(answer.body['code']).toBe('SUSPENDED');
        if (answer.body['code'] === 'SUSPENDED') seen.add(answer.process);
        expect([...seen].sort()).toEqual([...cached.keys()].sort());
      },
      { timeout: 20_000, interval: 20 },
    );
  });

  it('holds the per-IP limit across processes to within one round of requests', async () => {
    // Windows are aligned to the minute (rate-limits.ts): start early in one, so the test does
    // not straddle two.
    const intoWindow = Date.now() % 60_000;
    if (intoWindow > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoWindow + 100));
    const ip = `203.0.113.${1 + Math.floor(Math.random() * 250)}`;
    const ROUND = 4;
    let admitted = 0;
    const refusedBy = new Set<string>();
    const counted = async (): Promise<number> => {
      const keys = await redis.keys(`keyward:rl:ip:${ip}:*`);
      const values = keys.length === 0 ? [] : await redis.mget(keys);
      return values.reduce((sum, value) => sum + Number(value ?? 0), 0);
    };
    for (let round = 0; refusedBy.size < 2 || round < (LIMIT + 2 * ROUND) / ROUND + 2; round++) {
      if (round > 60) throw new Error(`no refusal from both processes after ${round} rounds (admitted ${admitted})`);
      const answers = await Promise.all(Array.from({ length: ROUND }, () => cluster.post('/v1/licenses/validate', { key: 'TO-0000' }, { 'x-forwarded-for': ip })));
      for (const answer of answers) {
        if (answer.status === 429) refusedBy.add(answer.process);
        else admitted += 1;
      }
      // Every process has pushed what it admitted before the next round is sent.
      await vi.waitFor(async () => expect(await counted()).toBe(admitted), { timeout: 10_000, interval: 10 });
    }
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT + 2 * ROUND);
  });

  it('holds a monthly quota across processes to within one round of validations', async () => {
    const issued = await keyward.licenses.issue({ planId: 'metered', periodEndsAt: new Date(Date.now() + 30 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.code);
    const { key } = issued.value;
    const licenseId = issued.value.record.license.id;
    const QUOTA = 5; // the metered plan of TEST_PLANS
    const ROUND = 2;
    let valid = 0;
    let client = 0;
    const exceededBy = new Set<string>();
    const counted = async (): Promise<number> => {
      const keys = await redis.keys(`keyward:usage:${licenseId}:*`);
      const values = keys.length === 0 ? [] : await redis.mget(keys);
      return values.reduce((sum, value) => sum + Number(value ?? 0), 0);
    };
    for (let round = 0; exceededBy.size < 2 || round < (QUOTA + 2 * ROUND) / ROUND + 2; round++) {
      if (round > 40) throw new Error(`no QUOTA_EXCEEDED from both processes after ${round} rounds (valid ${valid})`);
      const answers = await Promise.all(
        Array.from({ length: ROUND }, () => cluster.post('/v1/licenses/validate', { key }, { 'x-forwarded-for': `192.0.2.${(client++ % 250) + 1}` })),
      );
      for (const answer of answers) {
        if (answer.body['code'] === 'QUOTA_EXCEEDED') exceededBy.add(answer.process);
        else if (answer.body['code'] === 'VALID') valid += 1;
        else throw new Error(`unexpected answer ${JSON.stringify(answer.body)}`);
      }
      // Every process has pushed the validations it counted before the next round.
      await vi.waitFor(async () => expect(await counted()).toBe(valid), { timeout: 10_000, interval: 20 });
    }
    expect(valid).toBeGreaterThanOrEqual(QUOTA);
    expect(valid).toBeLessThanOrEqual(QUOTA + 2 * ROUND);
  });

  it('replaces a server process that dies, and keeps answering meanwhile', async () => {
    const before = await cluster.serverPids();
    expect(before).toHaveLength(2);
    process.kill(before[0] as number, 'SIGKILL');
    await vi.waitFor(
      async () => {
        const now = await cluster.serverPids();
        expect(now).toHaveLength(2);
        expect(now).not.toContain(before[0]);
      },
      { timeout: 60_000, interval: 100 },
    );
    // Both processes answer again (the new one included), each with its own request-id prefix.
    const answering = new Set<string>();
    await vi.waitFor(
      async () => {
        const answer = await cluster.post('/v1/licenses/validate', { key: 'not-a-key' }, { 'x-forwarded-for': `192.0.2.${1 + Math.floor(Math.random() * 250)}` });
        expect(answer.status).toBe(200);
        answering.add(answer.process);
        expect(answering.size).toBe(2);
      },
      { timeout: 60_000, interval: 20 },
    );
    expect(cluster.output()).toMatch(/exited \(SIGKILL\); starting another/);
  });
});
