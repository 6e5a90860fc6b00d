/**
 * The server on every core: a primary process that forks `WEB_CONCURRENCY` server processes
 * (default: one per core, `os.availableParallelism()`) sharing one listening port through
 * node:cluster, and replaces any that dies.
 *
 * Why processes and not threads: a validation is CPU work on one event loop (parse, HMAC,
 * decide, sign, serialise), so one process uses one core. Nothing a request needs is shared in
 * memory between processes, so they need no coordination beyond what separate machines already
 * have: the cache is invalidated through Redis pub/sub (and bounded by `CACHE_MAX_STALE_MS`
 * when a message is lost), rate limits and quota counts are summed in Redis (to within one sync
 * interval), and validation events go to the same streams. test/cluster/ holds those
 * properties across processes.
 *
 * Run: `node --import tsx server/cluster.ts` (or `node dist/server/cluster.js` after a build),
 * with the same environment as server/main.ts plus `WEB_CONCURRENCY`.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

import { ConfigurationError } from '../lib/errors/keyward-error.js';
import { isEntryPoint, runUntilSignal } from '../runtime/process-entry.js';
import { parseServerConfig } from './config.js';
import { serverWiring, startServer } from './main.js';

/** The number of server processes: `WEB_CONCURRENCY`, else one per core. */
export function parseProcessCount(env: Readonly<Record<string, string | undefined>>, cores: number = availableParallelism()): number {
  const given = env['WEB_CONCURRENCY'];
  if (given === undefined || given.trim() === '') return Math.max(1, cores);
  const count = Number(given);
  if (!Number.isInteger(count) || count < 1 || count > 1024) {
    throw new ConfigurationError('WEB_CONCURRENCY', `must be a whole number of processes from 1 to 1024 (got "${given}"); leave it unset for one per core (${cores})`);
  }
  return count;
}

/** Options for {@link runPrimary}. */
export interface PrimaryOptions {
  /** Server processes to keep running. */
  readonly processes: number;
  /** Where the primary reports. Default: stderr. */
  readonly report?: (line: string) => void;
  /** Longest wait for the processes to stop on SIGINT / SIGTERM, in ms. Default 15,000. */
  readonly stopTimeoutMs?: number;
  /**
   * Restarts allowed within a minute before the primary gives up (a process that cannot start,
   * say with a bad configuration, must not be forked forever). Default: 3 per process.
   */
  readonly maxRestartsPerMinute?: number;
}

/**
 * Forks the server processes, replaces one that exits unasked, and on SIGINT / SIGTERM passes
 * the signal on and exits once all have stopped (each finishes its requests and flushes its
 * events: server/main.ts).
 */
export function runPrimary(options: PrimaryOptions): void {
  const report = options.report ?? ((line: string) => process.stderr.write(`keyward-cluster: ${line}\n`));
  const maxRestarts = options.maxRestartsPerMinute ?? 3 * options.processes;
  const restarts: number[] = [];
  let stopping = false;

  const fork = (): Worker => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        report('all server processes stopped');
        process.exit(process.exitCode ?? 0);
      }
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while ((restarts[0] as number) < now - 60_000) restarts.shift();
    if (restarts.length > maxRestarts) {
      report(`server process ${worker.process.pid} exited (${signal ?? code}); ${restarts.length} exits within a minute: giving up`);
      process.exitCode = 1;
      stopAll();
      return;
    }
    report(`server process ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });

  const stopAll = (): void => {
    stopping = true;
    setTimeout(() => {
      report('server processes did not stop in time; exiting');
      process.exit(1);
    }, options.stopTimeoutMs ?? 15_000).unref();
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(process.exitCode ?? 0);
    for (const worker of workers) worker?.process.kill('SIGTERM');
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);

  report(`starting ${options.processes} server process${options.processes === 1 ? '' : 'es'}`);
  for (let i = 0; i < options.processes; i++) fork();
}

if (isEntryPoint(import.meta.url)) {
  if (cluster.isPrimary) {
    try {
      // Fails fast on a bad configuration here, once, rather than in every forked process.
      parseServerConfig(process.env, process.cwd());
      runPrimary({ processes: parseProcessCount(process.env) });
    } catch (error) {
      process.stderr.write(`keyward-cluster: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  } else {
    runUntilSignal({ name: `keyward-server[${process.pid}]` }, async () => {
      const running = await startServer(parseServerConfig(process.env, process.cwd()), serverWiring);
      let stopped: Promise<void> | undefined;
      return {
        // A Ctrl-C reaches every process of the group and the primary passes a SIGTERM on too:
        // the second signal joins the stop under way. Once stopped, the IPC channel to the
        // primary is the last thing keeping the process alive: disconnecting lets it end.
        stop: () => (stopped ??= running.stop().finally(() => cluster.worker?.disconnect())),
      };
    });
  }
}
