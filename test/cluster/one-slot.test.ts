/**
 * The rule that lets Keyward run on a Redis Cluster: every command and script it sends touches
 * keys of one hash slot (Redis Cluster refuses the others with CROSSSLOT). Each stream
 * partition, its abuse windows and leases share a `{partition}` hash tag; each BullMQ queue a
 * `{queue}` tag; counters are single keys.
 *
 * How it is checked: the whole system (server with the admin API and the Stripe webhook,
 * worker with every module) runs on a Redis of its own while MONITOR records every command;
 * then Redis itself names each command's keys (`COMMAND GETKEYS`, which understands EVAL and
 * EVALSHA's key counts), and the slot of each key is computed as Redis Cluster does (CRC16 of
 * the hash tag or key, mod 16384). Pipelines are not a concern: each command in one is checked
 * on its own, and runtime/redis-connection.ts sends them to their masters one by one.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startRedisServer, type RedisServer } from '../../embedded/redis-server.js';
import { generateKey } from '../../lib/keys/generate-key.js';
import { serverWiring } from '../../server/main.js';
import { WORKER_MODULES } from '../../worker/modules.js';
import { addressesIn, sendValidations } from '../support/abuse-traffic.js';
import { startBillingSystem } from '../support/billing-fixture.js';
import { startTestServer } from '../support/server-fixture.js';
import { PRICES } from '../support/stripe-events.js';
import { subscriptionStory } from '../support/subscription-story.js';
import { startTestWorker } from '../support/worker-fixture.js';

/** CRC16/XMODEM, the checksum Redis Cluster hashes keys with. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The cluster slot of a key: of its hash tag (the first non-empty `{…}`) when it has one. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(Buffer.from(hashed)) % 16_384;
}

/** The commands among `commands` whose keys (as Redis names them) span more than one slot. */
async function crossSlotCommands(client: Redis, commands: readonly string[][]): Promise<{ offending: string[]; multiKey: number }> {
  const shapes = new Map<string, readonly string[]>();
  for (const args of commands) {
    const name = (args[0] ?? '').toLowerCase();
    if (['monitor', 'command', 'client', 'info', 'select', 'ping', 'hello', 'quit'].includes(name)) continue;
    shapes.set(args.join('\u0000'), args);
  }
  const offending: string[] = [];
  let multiKey = 0;
  for (const args of shapes.values()) {
    let keys: string[];
    try {
      keys = (await client.call('COMMAND', 'GETKEYS', ...args)) as string[];
    } catch {
      continue; // a command without keys (PUBLISH's channel is not a key; SCRIPT LOAD)
    }
    if (keys.length > 1) multiKey += 1;
    if (new Set(keys.map(keySlot)).size > 1) offending.push(`${args.slice(0, 6).join(' ')} … keys ${keys.join(', ')}`);
  }
  return { offending, multiKey };
}

describe('one hash slot per command', () => {
  it('computes slots as Redis Cluster does (reference values from CLUSTER KEYSLOT)', () => {
    expect(keySlot('foo')).toBe(12_182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('123456789')).toBe(0x31c3 % 16_384);
  });

  let redis: RedisServer;
  let monitor: Redis;
  const commands: string[][] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
    monitor = new Redis(redis.url);
    const feed = await monitor.monitor();
    feed.on('monitor', (_time: string, args: string[]) => void commands.push(args));
  });
  afterAll(async () => {
    monitor?.disconnect();
    await redis?.stop();
  });

  it('flags a command or script whose keys span two slots', async () => {
    const client = new Redis(redis.url);
    try {
      const found = await crossSlotCommands(client, [
        ['mget', 'keyward:{3}:a', 'keyward:{3}:b'],
        ['mget', 'keyward:{3}:a', 'keyward:{4}:a'],
        ['evalsha', 'a'.repeat(40), '2', 'q:{billing}:wait', 'q:{mail}:wait', 'x'],
        ['set', 'one', '1'],
      ]);
      expect(found.offending).toHaveLength(2);
      expect(found.offending[0]).toMatch(/^mget keyward:\{3\}:a keyward:\{4\}:a/);
      expect(found.offending[1]).toMatch(/^evalsha/);
    } finally {
      client.disconnect();
    }
  });

  it('holds for every command the server and the worker send', { timeout: 180_000 }, async () => {
    // Validations (valid, unknown, metered), key guessing, a suspension (invalidation), rate limits.
    const server = await startTestServer({ redisUrl: redis.url }, serverWiring);
    const { streamPrefix, partitions } = server.config.events;
    await startTestWorker({ redisUrl: redis.url, mongoDb: server.config.mongoDb, events: { streamPrefix, partitions }, queuePrefix: server.config.queuePrefix }, WORKER_MODULES, {
      dropDatabase: false,
    });
    const { licenses } = server.server.keyward;
    const metered = await licenses.issue({ planId: 'metered', periodEndsAt: new Date(Date.now() + 30 * 86_400_000) });
    if (!metered.ok) throw new Error(metered.refusal.code);
    const ips = addressesIn('45.83.66', 40);
    await sendValidations(server.url, [
      ...Array.from({ length: 10 }, (_, i) => ({ key: metered.value.key, ip: ips[i]! })),
      ...Array.from({ length: 60 }, (_, i) => ({ key: generateKey(), ip: ips[i % ips.length]! })),
    ]);
    await licenses.apply(metered.value.record.license.id, { type: 'suspend', reason: 'manual', note: 'one-slot check' });
    await server.server.flushEvents();

    // Provisioning: a Stripe checkout through the webhook, the billing queue and its worker.
    const billing = await startBillingSystem({ redis: { redisUrl: redis.url } });
    const story = subscriptionStory();
    for (const event of story.paidCheckout(PRICES.basic).events) expect((await billing.apply(event)).status).toBe('processed');
    // Let the worker's consumers, schedulers and syncs run a few rounds.
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const client = new Redis(redis.url);
    try {
      const { offending, multiKey } = await crossSlotCommands(client, commands);
      expect(commands.length).toBeGreaterThan(100);
      // The check saw the multi-key commands it is about (BullMQ scripts, stream scripts, windows).
      expect(multiKey).toBeGreaterThan(5);
      expect(offending).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});
