/**
 * The server and the worker run on their own (`tsx server/main.ts`, `tsx worker/main.ts`), as a
 * deployment runs them: a start that cannot go on prints one line naming the variable to change
 * and exits with code 1, without lingering on connections it opened.
 */
import { createServer } from 'node:net';

import { describe, expect, it, onTestFinished } from 'vitest';

import { mongoUrl, redisUrl, uniqueName } from '../setup/services.js';
import { plainLines, runEntryPoint, SPAWN_TIMEOUT_MS, testSecretsEnvironment } from '../support/entry-point.js';

async function occupiedPort(): Promise<number> {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const address = holder.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const environment = (overrides: Record<string, string>): Record<string, string> => ({
  ...testSecretsEnvironment(),
  REDIS_URL: redisUrl(),
  MONGODB_URL: mongoUrl(),
  MONGODB_DB: uniqueName('entry'),
  PORT: '0',
  WORKER_METRICS_PORT: '0',
  ...overrides,
});

// Each test starts Node processes that compile the entry point with tsx: slow on a loaded machine.
describe('server/main.ts as the entry point', { timeout: SPAWN_TIMEOUT_MS }, () => {
  it('names PORT when its port is taken', async () => {
    const port = await occupiedPort();
    const end = await runEntryPoint('server/main.ts', environment({ PORT: String(port) })).ended;
    expect(end.code).toBe(1);
    expect(plainLines(end.stderr)).toEqual([
      `keyward-server: the HTTP server cannot listen on 127.0.0.1:${port}: the port is in use by another process; set PORT to a free port, or stop the other process`,
    ]);
  });

  it('names REDIS_URL when Redis does not answer', async () => {
    const end = await runEntryPoint('server/main.ts', environment({ REDIS_URL: 'redis://127.0.0.1:1' })).ended;
    expect(end.code).toBe(1);
    expect(plainLines(end.stderr)).toEqual([expect.stringMatching(/^keyward-server: Redis at redis:\/\/127\.0\.0\.1:1 cannot be reached \(.+\); check REDIS_URL, or start Redis there$/)]);
  });
});

// Each test starts Node processes that compile the entry point with tsx: slow on a loaded machine.
describe('worker/main.ts as the entry point', { timeout: SPAWN_TIMEOUT_MS }, () => {
  it('names WORKER_METRICS_PORT when its port is taken', async () => {
    const port = await occupiedPort();
    const end = await runEntryPoint('worker/main.ts', environment({ WORKER_METRICS_PORT: String(port) })).ended;
    expect(end.code).toBe(1);
    expect(plainLines(end.stderr)).toEqual([expect.stringMatching(new RegExp(`^keyward-worker: the worker metrics endpoint cannot listen on 127\\.0\\.0\\.1:${port}: .*set WORKER_METRICS_PORT`))]);
  });

  it('names MONGODB_URL within the driver\'s server-selection time', async () => {
    const end = await runEntryPoint('worker/main.ts', environment({ MONGODB_URL: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1000' })).ended;
    expect(end.code).toBe(1);
    expect(plainLines(end.stderr)).toEqual([expect.stringMatching(/^keyward-worker: MongoDB at .* cannot be reached .*; check MONGODB_URL/)]);
  });
});
