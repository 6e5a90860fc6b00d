/**
 * The server as `server/cluster.ts` runs it: a primary forking `processes` server processes on
 * one port, on the test run's Redis and MongoDB (a database and stream prefix of its own).
 * Which process answered a request shows in its `X-Request-Id`: made ids start with a random
 * per-process prefix (server/http/request-id.ts).
 */
import { randomBytes } from 'node:crypto';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { findFreePort } from '../../embedded/find-free-port.js';
import { generateTokenKeyPair } from '../../lib/tokens/validation-token.js';
import { mongoUrl, redisUrl, uniqueName } from '../setup/services.js';
import { TEST_PLANS } from './keyward-fixture.js';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('../../server/cluster.ts', import.meta.url));

/** A running cluster of server processes. */
export interface ServerCluster {
  readonly url: string;
  readonly mongoDb: string;
  /** The secrets the processes run with (a Keyward in the test needs the same to write). */
  readonly secrets: { readonly digest: string; readonly encryption: string };
  /** POSTs JSON on a fresh connection (so the primary hands it to the next process). */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; process: string; body: Record<string, unknown> }>;
  /** Pids of the server processes the primary runs now. */
  serverPids(): Promise<number[]>;
  /** What the processes wrote on stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `server/cluster.ts` with `processes` processes and waits until every one answers. */
export async function startServerCluster(processes: number, env: Record<string, string> = {}): Promise<ServerCluster> {
  const port = await findFreePort();
  const folder = mkdtempSync(join(tmpdir(), 'keyward-cluster-'));
  const plansFile = join(folder, 'plans.json');
  writeFileSync(plansFile, JSON.stringify(TEST_PLANS));
  const mongoDb = uniqueName('cluster');
  const secrets = { digest: randomBytes(32).toString('hex'), encryption: randomBytes(32).toString('hex') };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: {
      ...process.env,
      WEB_CONCURRENCY: String(processes),
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl(),
      MONGODB_URL: mongoUrl(),
      MONGODB_DB: mongoDb,
      KEYWARD_DIGEST_SECRET: secrets.digest,
      KEYWARD_ENCRYPTION_KEY: secrets.encryption,
      KEYWARD_SIGNING_KEY: generateTokenKeyPair().privateKey,
      KEYWARD_PLANS_FILE: plansFile,
      TRUSTED_PROXIES: 'loopback',
      EVENT_STREAM_PREFIX: uniqueName('events'),
      EVENT_STREAM_PARTITIONS: '4',
      KEYWARD_QUEUE_PREFIX: uniqueName('q'),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;

  const post: ServerCluster['post'] = async (path, body, headers = {}) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close', ...headers },
      body: JSON.stringify(body),
    });
    const requestId = response.headers.get('x-request-id') ?? '';
    return { status: response.status, process: requestId.split('-')[0] ?? '', body: (await response.json()) as Record<string, unknown> };
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(folder, { recursive: true, force: true });
  };

  // Ready when `processes` distinct processes have answered (the primary deals connections out
  // in turn, so a few rounds reach them all).
  const seen = new Set<string>();
  try {
    for (let attempt = 0; seen.size < processes; attempt++) {
      if (child.exitCode !== null) throw new Error(`cluster exited (${child.exitCode}):\n${stderr}`);
      if (attempt > 600) throw new Error(`only ${seen.size} of ${processes} processes answered:\n${stderr}`);
      try {
        const answer = await post('/v1/licenses/validate', { key: 'not-a-key' });
        if (answer.status === 200) seen.add(answer.process);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100)); // not listening yet
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  // The primary's Node children only: tsx also gives it an esbuild service process.
  const serverPids = async (): Promise<number[]> => {
    const { stdout } = await run('ps', ['--ppid', String(child.pid), '-o', 'pid=,comm=']).catch(() => ({ stdout: '' }));
    return stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([pid, command]) => pid !== undefined && pid !== '' && command === 'node')
      .map(([pid]) => Number(pid));
  };
  return { url, mongoDb, secrets, serverPids, post, output: () => stderr, stop };
}
