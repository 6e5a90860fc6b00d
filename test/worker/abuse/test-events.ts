/** Validation events for the consumer tests: a mix of codes, licenses and networks. */
import { once } from 'node:events';

import { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';

import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import type { ValidationEvent } from '../../../lib/events/validation-event.js';
import { redisUrl } from '../../setup/services.js';

/** The i-th test event; `fingerprint` carries `i`. */
export function testEvent(i: number, at = Date.parse('2026-03-01T12:00:00.000Z') + i): ValidationEvent {
  const kind = i % 10;
  return {
    at,
    licenseId: kind <= 1 ? null : `lic_${i % 37}`,
    keyDigest: kind === 0 ? null : i.toString(16).padStart(64, '0'),
    ip: `198.51.${i % 7}.${i % 250}`,
    origin: null,
    referer: null,
    domain: null,
    fingerprint: `fp-${i}`,
    product: 'toolbox',
    userAgent: 'Toolbox/2.1',
    code: kind === 0 ? 'MALFORMED_KEY' : kind === 1 ? 'NOT_FOUND' : 'VALID',
  };
}

/**
 * A fail-fast Redis connection for a test that writes its own streams; the streams are deleted
 * and the connection closed when the test ends.
 */
export async function connectTestStreams(partitions: number, streamPrefix: string): Promise<Redis> {
  const redis = new Redis(redisUrl(), { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await once(redis, 'ready');
  onTestFinished(async () => {
    await redis.del(...allStreamKeys(partitions, streamPrefix));
    await redis.quit();
  });
  return redis;
}
