/** The worker's composition root: modules start in order with one context and stop in reverse. */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import type { WorkerModule } from '../../worker/worker-module.js';
import { startTestWorker } from '../support/worker-fixture.js';

function recordingModule(name: string, log: string[]): WorkerModule {
  return {
    name,
    async start(context) {
      // A real round trip through the context's clients, so a broken context fails here.
      await context.redis.set(`${context.queuePrefix}:${name}`, '1');
      await context.db.collection('module_starts').insertOne({ name });
      log.push(`start ${name}`);
      return { stop: async () => void log.push(`stop ${name}`) };
    },
  };
}

describe('startWorker', () => {
  it('starts its modules in order on connected clients and stops them newest first', async () => {
    const log: string[] = [];
    const worker = await startTestWorker({}, [recordingModule('first', log), recordingModule('second', log)]);
    expect(await worker.context.db.collection('module_starts').countDocuments()).toBe(2);
    expect(await worker.context.redis.get(`${worker.config.queuePrefix}:second`)).toBe('1');
    await worker.stop();
    expect(log).toEqual(['start first', 'start second', 'stop second', 'stop first']);
  });

  it('stops the modules already started when a later one fails to start', async () => {
    const log: string[] = [];
    const failing: WorkerModule = { name: 'broken', start: () => Promise.reject(new Error('cannot start')) };
    await expect(startTestWorker({}, [recordingModule('first', log), failing])).rejects.toThrow('cannot start');
    expect(log).toEqual(['start first', 'stop first']);
  });

  it('gives modules Redis connections for blocking work and closes them on stop', async () => {
    let blocking: Redis | undefined;
    const module: WorkerModule = {
      name: 'blocking',
      async start(context) {
        const client = context.createRedis('test');
        blocking = client;
        expect(await client.ping()).toBe('PONG');
        return { stop: async () => undefined };
      },
    };
    const worker = await startTestWorker({}, [module]);
    await worker.stop();
    expect(blocking?.status).toBe('end');
  });
});
