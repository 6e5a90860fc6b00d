/**
 * Every Redis connection of the server, the worker and the CLI is made here, so that one
 * setting, `REDIS_CLUSTER_NODES=host:port,host:port,…`, moves all of them (event sink and
 * streams, stream consumers and leases, abuse windows and their scripts, BullMQ queues and job
 * schedulers, rate limits, usage counters, invalidation pub/sub) to a Redis Cluster.
 *
 * On a cluster the client is an ioredis `Cluster`, typed as `Redis`: the code uses the command
 * API both share, and the two places where a cluster behaves differently are made to behave
 * like one server here, rather than in every caller:
 * - a pipeline may hold commands for keys on different masters (the event sink appends to
 *   16 partitions in one pipeline; rate limits and usage counts push many counters at once).
 *   ioredis refuses those on a cluster, so a pipeline here queues its commands and sends each
 *   as a command of its own on exec (all written at once, each to the master of its key,
 *   without waiting for replies in between). A pipeline was never atomic; replies keep their
 *   order. (ioredis's auto-pipelining is left off: it builds its batches with `pipeline()`.)
 * - `SCRIPT LOAD` goes to every master, so an EVALSHA finds its script on whichever master
 *   holds its key (a command without keys goes to one random node on a cluster).
 * Each single command must still touch one hash slot (Redis refuses CROSSSLOT): every
 * multi-key command and script in Keyward keys its keys with one hash tag (`{…}`), which
 * test/cluster/one-slot.test.ts checks for every command the system sends.
 */
import { Cluster, Redis, type ChainableCommander, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';

import { ConfigurationError } from '../lib/errors/keyward-error.js';

/** Where Redis is: one server, or a cluster reached through seed nodes. */
export interface RedisTarget {
  /** The Redis URL; with cluster nodes, only its credentials and scheme (TLS) are used. */
  readonly redisUrl: string;
  /** Seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`); absent: one server at redisUrl. */
  readonly redisClusterNodes?: readonly ClusterSeed[] | undefined;
}

/** A cluster seed node. */
export interface ClusterSeed {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port,host:port,…` (IPv6 hosts in brackets: `[::1]:7000`); undefined when unset or empty. */
export function parseClusterNodes(value: string | undefined): ClusterSeed[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((part) => {
    const text = part.trim();
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65_535) {
      throw new ConfigurationError('REDIS_CLUSTER_NODES', `"${text}" is not host:port; give the cluster's nodes as host:port,host:port,…`);
    }
    return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
  });
}

/** Options that belong to each node's connection rather than to the cluster client. */
function nodeOptions(url: URL, options: RedisOptions): ClusterOptions['redisOptions'] {
  const { enableOfflineQueue: _queue, lazyConnect: _lazy, retryStrategy: _retry, host: _host, port: _port, path: _path, readOnly: _readOnly, sentinels: _sentinels, ...perNode } = options;
  return {
    ...(perNode as ClusterOptions['redisOptions']),
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * A connection to the target: `new Redis(url, options)` for one server, else a cluster client
 * with the same options (see the module comment for what is adapted).
 */
export function createRedisConnection(target: RedisTarget, options: RedisOptions = {}): Redis {
  // (The cast: ioredis types its options with optional properties that exactOptionalPropertyTypes
  // reads strictly; the object is the caller's, unchanged.)
  if (target.redisClusterNodes === undefined || target.redisClusterNodes.length === 0) return new Redis(target.redisUrl, options as never);
  const cluster = new Cluster(
    target.redisClusterNodes.map((node): ClusterNode => ({ host: node.host, port: node.port })),
    {
      redisOptions: nodeOptions(new URL(target.redisUrl), options) as never,
      ...(options.enableOfflineQueue === undefined ? {} : { enableOfflineQueue: options.enableOfflineQueue }),
      ...(options.lazyConnect === undefined ? {} : { lazyConnect: options.lazyConnect }),
      ...(options.retryStrategy === undefined ? {} : { clusterRetryStrategy: (times: number) => options.retryStrategy?.(times) ?? null }),
      // A failover moves slots: keep following MOVED replies for longer than a default election,
      // and re-read the slot map every second (ioredis does not by default): a command bound
      // for a dead master times out rather than being redirected, so only a refresh moves it on.
      slotsRefreshInterval: 1_000,
      maxRedirections: 32,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
    },
  );
  adaptCluster(cluster);
  return cluster as unknown as Redis;
}

type Reply = [Error | null, unknown];

/** How long SCRIPT LOAD waits for one cluster node. */
const SCRIPT_LOAD_TIMEOUT_MS = 2_000;

/** The promise's value, or a rejection once `ms` have passed. */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
type CommandFunction = (...args: unknown[]) => Promise<unknown>;

/** Cross-slot pipelines and SCRIPT LOAD on every master (module comment). Also applied to duplicates. */
function adaptCluster(cluster: Cluster): void {
  const call = (name: string, args: unknown[]): Promise<unknown> => (cluster as unknown as Record<string, CommandFunction>)[name]!(...args);
  cluster.pipeline = ((): ChainableCommander => {
    const queued: Array<[string, unknown[]]> = [];
    const pipeline: ChainableCommander = new Proxy({} as ChainableCommander, {
      get(target, name) {
        // What a caller set on the pipeline (BullMQ adds helpers to it) is its own.
        if (Reflect.has(target, name)) return Reflect.get(target, name) as unknown;
        if (name === 'exec') {
          return async (): Promise<Reply[]> =>
            Promise.all(queued.map(([command, args]) => call(command, args).then((value): Reply => [null, value], (error: Error): Reply => [error, null])));
        }
        if (name === 'length') return queued.length;
        // Only the client's commands queue; anything else (valueOf, then, symbols) is what a
        // plain object answers, so the pipeline can be compared and awaited-checked like one.
        if (typeof name !== 'string' || name in Object.prototype || typeof (cluster as unknown as Record<string, unknown>)[name] !== 'function') {
          return Reflect.get(Object.prototype, name) as unknown;
        }
        return (...args: unknown[]) => {
          queued.push([name, args]);
          return pipeline;
        };
      },
    });
    return pipeline;
  }) as Cluster['pipeline'];
  const script = cluster.script.bind(cluster) as unknown as CommandFunction;
  (cluster as unknown as { script: CommandFunction }).script = async (...args: unknown[]) => {
    if (String(args[0]).toUpperCase() !== 'LOAD') return script(...args);
    // Every connected node takes it, replicas too: Redis does not replicate SCRIPT LOAD, and a
    // replica promoted by a failover must already know the script. A node that just died may
    // still be listed until the next slot refresh, and a call to it waits for a reconnect that
    // may never come: only ready nodes are asked, each for at most SCRIPT_LOAD_TIMEOUT_MS.
    const ready = cluster.nodes('all').filter((node) => node.status === 'ready');
    const replies = await Promise.allSettled(ready.map((node) => withinMs((node.script as unknown as CommandFunction)(...args), SCRIPT_LOAD_TIMEOUT_MS)));
    const loaded = replies.find((reply) => reply.status === 'fulfilled');
    if (loaded === undefined) throw (replies[0] as PromiseRejectedResult | undefined)?.reason ?? new Error('SCRIPT LOAD: no master reachable');
    return loaded.value;
  };
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.duplicate = (...args: Parameters<Cluster['duplicate']>) => {
    const copy = duplicate(...args);
    adaptCluster(copy);
    return copy;
  };
}
