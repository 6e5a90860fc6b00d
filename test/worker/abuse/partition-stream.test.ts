/** Consumer-group housekeeping of a partition stream, against the real Redis. */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { streamKeyFor } from '../../../lib/events/stream-partition.js';
import { encodeValidationEvent } from '../../../lib/events/validation-event.js';
import { leaseKeysFor, PartitionLease } from '../../../worker/abuse/partition-lease.js';
import { PartitionStream } from '../../../worker/abuse/partition-stream.js';
import { redisUrl, uniqueName } from '../../setup/services.js';
import { testEvent } from './test-events.js';

const GROUP = 'keyward-abuse';

describe('PartitionStream.pruneConsumers', () => {
  it('removes consumers with nothing pending, and keeps those holding entries', async () => {
    const redis = new Redis(redisUrl());
    onTestFinished(() => redis.quit().then(() => undefined));
    const stream = streamKeyFor(0, uniqueName('events'));
    onTestFinished(() => redis.del(stream).then(() => undefined));
    const keys = leaseKeysFor(stream, GROUP);
    const token = (await new PartitionLease(redis, 'any', 60_000).acquire(keys))!;
    const as = (consumer: string) => new PartitionStream(redis, stream, keys, GROUP, consumer);
    await as('me').ensureGroup();
    for (let i = 0; i < 4; i += 1) await redis.xadd(stream, '*', ...encodeValidationEvent(testEvent(i)));

    const done = await as('finished').read(token, 2);
    await as('finished').ack(token, done.kind === 'entries' ? done.entries.map(([id]) => id) : []);
    await as('crashed').read(token, 2);

    expect(await as('me').pruneConsumers(0)).toBe(1);
    const names = ((await redis.xinfo('CONSUMERS', stream, GROUP)) as unknown[][]).map((fields) => fields[1]);
    expect(names).toEqual(['crashed']);
  });
});
