import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

import { findExecutable } from './find-executable.js';
import { findFreePort } from './find-free-port.js';
import { describeProcessEnd, spawnSupervised, type SupervisedProcess } from './supervised-process.js';

/** How an embedded Redis keeps its data. */
export type RedisPersistence = 'none' | 'aof';

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /**
   * Working directory of the server; with `persistence: 'aof'` the append-only files live here
   * (in `appendonlydir/`). Created when missing. Required for `'aof'`.
   * Default: the OS temporary directory (nothing is written there with `'none'`).
   */
  readonly dataDir?: string;
  /**
   * `'none'`: no snapshots, no append-only file; data is gone on stop.
   * `'aof'`: append-only file fsynced every second and on shutdown, so data survives a restart.
   * Default: `'none'`.
   */
  readonly persistence?: RedisPersistence;
  /**
   * With `'aof'`: when the append-only file is fsynced. `'everysec'` may lose the last second of
   * writes on a crash of the machine; `'always'` fsyncs before every reply (tests that restart
   * Redis mid-stream, deployments that must lose no acknowledged write). Default: `'everysec'`.
   */
  readonly appendFsync?: 'everysec' | 'always';
  /** TCP port on 127.0.0.1. Default: a free port, chosen again if another process takes it first. */
  readonly port?: number;
  /** The `redis-server` program, as a name looked up on `PATH` or an absolute path. Default: `'redis-server'`. */
  readonly executable?: string;
  /** How long to wait for the server to answer PING. Default: 10 000 ms. */
  readonly startTimeoutMs?: number;
}

/** A running embedded Redis. */
export interface RedisServer {
  /** Connection URL, `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The TCP port it listens on. */
  readonly port: number;
  /** Shuts the server down with SIGTERM (which flushes the append-only file) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Free-port attempts before giving up, when the caller did not fix the port. */
const PORT_ATTEMPTS = 5;

/**
 * Starts the system's `redis-server` on 127.0.0.1 as a child process bound to this one, and
 * resolves once it answers PING.
 *
 * @param options - Persistence, directory and port; see {@link RedisServerOptions}.
 * @throws Error when `redis-server` is not installed, the options are inconsistent, or the
 *   server does not come up (the message carries its last output lines).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const persistence = options.persistence ?? 'none';
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  if (persistence === 'aof' && options.dataDir === undefined) {
    throw new Error("startRedisServer: persistence 'aof' needs a dataDir to keep the append-only file in");
  }
  const executable = await findExecutable(options.executable ?? 'redis-server');
  if (executable === undefined) {
    throw new Error(
      `redis-server (${options.executable ?? 'redis-server'}) was not found on PATH. ` +
        'Install it with `apt-get install redis-server` (Debian/Ubuntu), or set REDIS_URL to an existing Redis.',
    );
  }
  const dir = options.dataDir ?? tmpdir();
  await mkdir(dir, { recursive: true });

  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt += 1) {
    const port = options.port ?? (await findFreePort());
    const launch = await launchRedis({ executable, port, dir, persistence, appendFsync: options.appendFsync ?? 'everysec', startTimeoutMs });
    if (launch.outcome === 'started') return launch.server;
    if (launch.outcome === 'port-taken' && attempt < attempts) continue;
    throw new Error(launch.message);
  }
}

type RedisLaunch =
  | { readonly outcome: 'started'; readonly server: RedisServer }
  | { readonly outcome: 'port-taken'; readonly message: string }
  | { readonly outcome: 'failed'; readonly message: string };

async function launchRedis(launch: {
  executable: string;
  port: number;
  dir: string;
  persistence: RedisPersistence;
  appendFsync: 'everysec' | 'always';
  startTimeoutMs: number;
}): Promise<RedisLaunch> {
  const { executable, port, dir, persistence, appendFsync, startTimeoutMs } = launch;
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--daemonize', 'no',
    // Log to stdout, which the supervisor keeps for error messages.
    '--logfile', '',
    // One persistence mechanism only: RDB snapshots would be a second copy of the same data.
    '--save', '',
    ...(persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', appendFsync] : ['--appendonly', 'no']),
  ];
  const child = await spawnSupervised({ executable, args });

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.hasEnded()) {
      const output = child.recentOutput();
      const message = `redis-server on port ${port} ${describeProcessEnd(await child.ended)}:\n${output}`;
      return /address already in use/i.test(output) ? { outcome: 'port-taken', message } : { outcome: 'failed', message };
    }
    // PING rather than the "Ready to accept connections" log line: it also waits out the
    // LOADING phase while a large append-only file is replayed.
    if (await answersPing(port)) return { outcome: 'started', server: runningRedis(child, port) };
    if (Date.now() > deadline) {
      await child.stop();
      return {
        outcome: 'failed',
        message: `redis-server on port ${port} did not answer PING within ${startTimeoutMs} ms:\n${child.recentOutput()}`,
      };
    }
    await delay(50);
  }
}

function runningRedis(child: SupervisedProcess, port: number): RedisServer {
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      const end = await child.stop();
      if (end.kind !== 'exited' || end.code !== 0) {
        throw new Error(`redis-server on port ${port} ${describeProcessEnd(end)} while stopping:\n${child.recentOutput()}`);
      }
    },
  };
}

/** Sends an inline PING over a fresh socket; true only for a `+PONG` reply. */
async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (answered: boolean): void => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (reply) => finish(reply.toString('latin1').startsWith('+PONG')));
  });
}
