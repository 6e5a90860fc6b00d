/**
 * Every validation becomes one stream entry with what the abuse detector needs, and Redis
 * being down never fails a validation nor loses an event that the buffer kept.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from '../../../embedded/redis-server.js';
import { generateKey } from '../../../lib/keys/generate-key.js';
import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import { decodeValidationEvent, type ValidationEvent } from '../../../lib/events/validation-event.js';
import { issueLicense } from '../../support/licenses.js';
import { startTestServer, type TestServer } from '../../support/server-fixture.js';

async function readEvents(server: TestServer, redisUrl = server.config.redisUrl): Promise<ValidationEvent[]> {
  await server.server.flushEvents();
  const redis = new Redis(redisUrl);
  try {
    const keys = allStreamKeys(server.config.events.partitions, server.config.events.streamPrefix);
    const entries = (await Promise.all(keys.map((key) => redis.xrange(key, '-', '+')))).flat();
    return entries.map(([, fields]) => {
      const decoded = decodeValidationEvent(fields);
      if (!decoded.ok) throw new Error(`bad entry: ${JSON.stringify(decoded)}`);
      return decoded.event;
    });
  } finally {
    await redis.quit();
  }
}

describe('validation events', () => {
  it('append one entry per validation, with the request details, in partitioned streams', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    const unknown = generateKey();
    const headers = {
      'x-forwarded-for': '203.0.113.44',
      origin: 'https://app.example',
      referer: 'https://app.example/settings',
      'user-agent': 'ExampleApp/2.1',
    };
    await server.post('/v1/licenses/validate', { key: license.key, fingerprint: 'fp-1', product: 'default', domain: 'app.example' }, headers);
    await server.post('/v1/licenses/validate', { key: unknown }, headers);
    await server.post('/v1/licenses/validate', { key: 'not a key' }, headers);
    const events = await readEvents(server);
    expect(events).toHaveLength(3);
    const byCode = Object.fromEntries(events.map((event) => [event.code, event]));
    expect(byCode['VALID']).toMatchObject({
      licenseId: license.id,
      keyDigest: license.digest,
      ip: '203.0.113.44',
      origin: 'https://app.example',
      referer: 'https://app.example/settings',
      userAgent: 'ExampleApp/2.1',
      fingerprint: 'fp-1',
      product: 'default',
      domain: 'app.example',
    });
    expect(byCode['NOT_FOUND']).toMatchObject({ licenseId: null, keyDigest: server.server.keyward.validation.prepare(unknown).digest });
    expect(byCode['MALFORMED_KEY']).toMatchObject({ licenseId: null, keyDigest: null, ip: '203.0.113.44' });
    for (const event of events) expect(Math.abs(event.at - Date.now())).toBeLessThan(60_000);
    expect(JSON.stringify(events)).not.toContain(license.key);
  });

  it('keep validations answering while Redis is down, and deliver the buffered events when it is back', async () => {
    const redisServer = await startRedisServer();
    let restarted: Awaited<ReturnType<typeof startRedisServer>> | null = null;
    try {
      const server = await startTestServer({ redisUrl: redisServer.url });
      const cached = await issueLicense(server.server, { planId: 'open' });
      const uncached = await issueLicense(server.server, { planId: 'open' });
      expect((await server.post('/v1/licenses/validate', { key: cached.key })).body['code']).toBe('VALID');
      await server.server.flushEvents();

      await redisServer.stop();
      const answers = [];
      for (let i = 0; i < 10; i++) answers.push(await server.post('/v1/licenses/validate', { key: i % 2 ? cached.key : uncached.key }));
      expect(answers.map((answer) => answer.body['code'])).toEqual(Array(10).fill('VALID'));
      expect(server.server.eventStats().buffered).toBe(10);

      restarted = await startRedisServer({ port: redisServer.port });
      for (let i = 0; i < 200 && server.server.eventStats().buffered > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const events = await readEvents(server, restarted.url);
      // The restarted Redis has no persistence: it holds exactly what the buffer delivered.
      expect(events).toHaveLength(10);
      expect(server.server.eventStats()).toMatchObject({ buffered: 0, dropped: 0 });
      await server.stop();
    } finally {
      await restarted?.stop();
    }
  });
});
