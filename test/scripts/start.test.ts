/**
 * `npm start` (scripts/start.ts) run as an operator runs it. A start-up that cannot go on stops
 * with one line naming what to change and a non-zero exit, without lingering; a running
 * instance is never disturbed by a second one; a stop always ends with a "stopped" line, even
 * with Redis gone.
 *
 * These tests use the run's Redis and MongoDB through REDIS_URL / MONGODB_URL (no JVM per
 * test), except where the test stops a data store: then it starts its own Redis.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { DATA_DIR_LOCK_FILE } from '../../embedded/data-dir-lock.js';
import { startRedisServer } from '../../embedded/redis-server.js';
import { mongoUrl, redisUrl } from '../setup/services.js';
import { plainLines, runEntryPoint, SPAWN_TIMEOUT_MS, testSecretsEnvironment } from '../support/entry-point.js';

function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'keyward-start-'));
}

/** A port held by a plain TCP listener for the rest of the test. */
async function occupiedPort(): Promise<number> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const address = holder.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The environment of a start on the run's data stores, with both listeners on free ports. */
function startEnvironment(dataDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...testSecretsEnvironment(),
    KEYWARD_DATA_DIR: dataDir,
    REDIS_URL: redisUrl(),
    MONGODB_URL: mongoUrl(),
    MONGODB_DB: `start_${process.pid}`,
    PORT: '0',
    WORKER_METRICS_PORT: '0',
    ...overrides,
  };
}

// Each test starts Node processes that compile the entry point with tsx: slow on a loaded machine.
describe('npm start: start-up failures name what to change and exit', { timeout: SPAWN_TIMEOUT_MS }, () => {
  it('stops with code 1 and names WORKER_METRICS_PORT when the metrics port is taken (a second instance)', async () => {
    const port = await occupiedPort();
    const run = runEntryPoint('scripts/start.ts', startEnvironment(tempDataDir(), { WORKER_METRICS_PORT: String(port) }));
    const end = await run.ended;
    expect(end.code).toBe(1);
    const told = plainLines(end.stderr);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(new RegExp(`^keyward start: .*127\\.0\\.0\\.1:${port}.*in use.*set WORKER_METRICS_PORT`));
    // It stopped what it had opened instead of retrying in the background.
    expect(end.stdout).not.toMatch(/background sync failed/);
  });

  it('names PORT when the HTTP port is taken', async () => {
    const port = await occupiedPort();
    const end = await runEntryPoint('scripts/start.ts', startEnvironment(tempDataDir(), { PORT: String(port) })).ended;
    expect(end.code).toBe(1);
    expect(plainLines(end.stderr)).toEqual([expect.stringMatching(new RegExp(`^keyward start: the HTTP server cannot listen on 127\\.0\\.0\\.1:${port}.*set PORT to a free port`))]);
  });

  it('names MONGODB_URL within the driver\'s server-selection time, and never claims the data stores are ready', async () => {
    const end = await runEntryPoint('scripts/start.ts', startEnvironment(tempDataDir(), { MONGODB_URL: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1500' })).ended;
    expect(end.code).toBe(1);
    expect(plainLines(end.stderr)).toEqual([expect.stringMatching(/^keyward start: MongoDB at mongodb:\/\/127\.0\.0\.1:1\/.* cannot be reached \(.*ECONNREFUSED.*\); check MONGODB_URL/)]);
    expect(end.stdout).not.toMatch(/data stores ready/);
  });

  it('names REDIS_URL when Redis does not answer', async () => {
    const end = await runEntryPoint('scripts/start.ts', startEnvironment(tempDataDir(), { REDIS_URL: 'redis://127.0.0.1:1' })).ended;
    expect(end.code).toBe(1);
    expect(plainLines(end.stderr)).toEqual([expect.stringMatching(/^keyward start: Redis at redis:\/\/127\.0\.0\.1:1 cannot be reached .*; check REDIS_URL/)]);
    expect(end.stdout).not.toMatch(/data stores ready/);
  });

  it('says in one line that the data directory is in use, by which process, and leaves that instance alone', async () => {
    const dataDir = tempDataDir();
    // This test process stands for the running instance: a live process holding the lock.
    const lock = `${JSON.stringify({ pid: process.pid, startedAt: '2026-01-02T03:04:05.000Z' })}\n`;
    writeFileSync(join(dataDir, DATA_DIR_LOCK_FILE), lock);
    writeFileSync(join(dataDir, 'local.env'), "KEYWARD_URL='http://127.0.0.1:8080'\n");
    const end = await runEntryPoint('scripts/start.ts', startEnvironment(dataDir)).ended;
    expect(end.code).toBe(1);
    expect(plainLines(end.stderr)).toEqual([
      `keyward start: the data directory ${dataDir} is in use by process ${process.pid} (a Keyward started at 2026-01-02T03:04:05.000Z); ` +
        `stop that one, or set KEYWARD_DATA_DIR to another directory (if process ${process.pid} is not Keyward, delete ${join(dataDir, DATA_DIR_LOCK_FILE)})`,
    ]);
    expect(end.stdout).toBe('');
    expect(readFileSync(join(dataDir, DATA_DIR_LOCK_FILE), 'utf8')).toBe(lock);
    expect(readFileSync(join(dataDir, 'local.env'), 'utf8')).toBe("KEYWARD_URL='http://127.0.0.1:8080'\n");
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dataDir = tempDataDir();
    // A pid above the kernel's default pid_max (4194304) names no process.
    writeFileSync(join(dataDir, DATA_DIR_LOCK_FILE), JSON.stringify({ pid: 4_194_305, startedAt: '2026-01-02T03:04:05.000Z' }));
    const run = runEntryPoint('scripts/start.ts', startEnvironment(dataDir));
    await run.waitFor('Keyward is running');
    const owner = JSON.parse(readFileSync(join(dataDir, DATA_DIR_LOCK_FILE), 'utf8')) as { pid: number };
    expect(owner.pid).toBe(run.child.pid);
    run.child.kill('SIGTERM');
    expect((await run.ended).code).toBe(0);
  });
});

// Each test starts Node processes that compile the entry point with tsx: slow on a loaded machine.
describe('npm start: every stop is bounded and says so', { timeout: SPAWN_TIMEOUT_MS }, () => {
  it('ends with a "stopped" line and code 0 on SIGTERM, and removes its lock and local.env', async () => {
    const dataDir = tempDataDir();
    const run = runEntryPoint('scripts/start.ts', startEnvironment(dataDir));
    await run.waitFor('Keyward is running');
    expect(readFileSync(join(dataDir, 'local.env'), 'utf8')).toMatch(/^KEYWARD_URL='http:\/\/127\.0\.0\.1:\d+'$/m);
    run.child.kill('SIGTERM');
    const end = await run.ended;
    expect(end.code).toBe(0);
    const last = end.stdout.trim().split('\n').at(-1) ?? '';
    expect(JSON.parse(last)).toMatchObject({ name: 'keyward-start', msg: 'stopped' });
    expect(() => readFileSync(join(dataDir, 'local.env'))).toThrow(/ENOENT/);
    expect(() => readFileSync(join(dataDir, DATA_DIR_LOCK_FILE))).toThrow(/ENOENT/);
  });

  it('stops while Redis is down: within its step deadlines, naming what it gave up on', async () => {
    // Its own Redis, so that stopping it disturbs no other test.
    const redis = await startRedisServer();
    onTestFinished(() => redis.stop().catch(() => undefined));
    const run = runEntryPoint('scripts/start.ts', startEnvironment(tempDataDir(), { REDIS_URL: redis.url }));
    await run.waitFor('Keyward is running');
    await redis.stop();
    run.child.kill('SIGINT');
    const end = await run.ended;
    const last = JSON.parse(end.stdout.trim().split('\n').at(-1) ?? '{}') as { msg?: string; gaveUpOn?: string[] };
    // Either everything let go in time ("stopped") or the line names each part given up on.
    expect(last.msg).toMatch(/^stopped/);
    if (last.msg !== 'stopped') {
      expect(end.code).toBe(1);
      expect(last.gaveUpOn?.length).toBeGreaterThan(0);
      for (const part of last.gaveUpOn ?? []) expect(last.msg).toContain(part);
    } else {
      expect(end.code).toBe(0);
    }
  });
});
