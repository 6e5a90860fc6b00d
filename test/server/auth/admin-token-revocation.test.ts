/**
 * A revoked admin token stops working on every server at once: the revocation travels on the
 * Redis revocation bus (the license invalidation bus, on its own channel) to each server's
 * token cache. Kept without Redis: nothing else changes; the bound is then the cache period
 * (AdminAuth's cacheTtlMs, 30 s), which these servers never reach during the test.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { createAdminToken } from '../../../server/auth/admin-auth.js';
import { ADMIN_TOKEN_REVOCATION_CHANNEL, RevocationAnnouncingTokenStore } from '../../../server/auth/admin-token-revocations.js';
import { serverWiring } from '../../../server/main.js';
import { redisUrl, uniqueName } from '../../setup/services.js';
import { startTestServer } from '../../support/server-fixture.js';

/** Resolves once `count` connections subscribe to the revocation channel (the servers are listening). */
async function subscribers(redis: Redis, count: number): Promise<void> {
  for (;;) {
    const [, listening] = (await redis.pubsub('NUMSUB', ADMIN_TOKEN_REVOCATION_CHANNEL)) as [string, number];
    if (listening >= count) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('admin-token revocation', () => {
  it('reaches every server at once: both refuse the token right after the CLI-style revocation', async () => {
    const redis = new Redis(redisUrl());
    onTestFinished(() => void redis.disconnect());
    const [, before] = (await redis.pubsub('NUMSUB', ADMIN_TOKEN_REVOCATION_CHANNEL)) as [string, number];
    const mongoDb = uniqueName('revoke');
    const servers = [await startTestServer({ mongoDb }, serverWiring), await startTestServer({ mongoDb }, serverWiring)];
    await subscribers(redis, before + 2);

    const mongo = await new MongoClient(servers[0]?.config.mongoUrl ?? '').connect();
    onTestFinished(() => mongo.close());
    const tokens = new RevocationAnnouncingTokenStore(new MongoAdminTokenStore({ db: mongo.db(mongoDb) }), (id) => void redis.publish(ADMIN_TOKEN_REVOCATION_CHANNEL, id));
    const { token, record } = await createAdminToken(tokens, { name: 'ops', scope: 'read' }, new Date());
    const list = (url: string) => fetch(`${url}/v1/admin/licenses`, { headers: { authorization: `Bearer ${token}` } });
    // Each server has the token cached now.
    for (const server of servers) expect((await list(server.url)).status).toBe(200);

    expect(await tokens.revoke(record.id, new Date())).toBe(true);
    for (const server of servers) {
      // Delivery is asynchronous but immediate: wait for it, well inside the 30 s cache period.
      let status = 200;
      while (status === 200) status = (await list(server.url)).status;
      expect(status).toBe(401);
    }
  });

  it("reaches the other servers when revoked through one server's admin route", async () => {
    const redis = new Redis(redisUrl());
    onTestFinished(() => void redis.disconnect());
    const [, before] = (await redis.pubsub('NUMSUB', ADMIN_TOKEN_REVOCATION_CHANNEL)) as [string, number];
    const mongoDb = uniqueName('revoke-route');
    const [first, second] = [await startTestServer({ mongoDb }, serverWiring), await startTestServer({ mongoDb }, serverWiring)];
    await subscribers(redis, before + 2);

    const mongo = await new MongoClient(first.config.mongoUrl).connect();
    onTestFinished(() => mongo.close());
    const store = new MongoAdminTokenStore({ db: mongo.db(mongoDb) });
    const admin = await createAdminToken(store, { name: 'admin', scope: 'write' }, new Date());
    const ops = await createAdminToken(store, { name: 'ops', scope: 'read' }, new Date());
    const list = (url: string) => fetch(`${url}/v1/admin/licenses`, { headers: { authorization: `Bearer ${ops.token}` } });
    expect((await list(second.url)).status).toBe(200);

    const revoked = await fetch(`${first.url}/v1/admin/tokens/${ops.record.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(revoked.status).toBe(200);
    expect((await list(first.url)).status).toBe(401);
    // The second server cached the token as valid: only the bus can make it refuse before its 30 s cache period ends.
    const deadline = Date.now() + 15_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) status = (await list(second.url)).status;
    expect(status).toBe(401);
  });
});
