/**
 * A real Redis Cluster on this machine: six `redis-server` processes (three masters, three
 * replicas) on free ports, data (append-only, as production should run) in a temp dir, joined
 * with `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';

import { findFreePort } from '../../embedded/find-free-port.js';
import type { ClusterSeed } from '../../runtime/redis-connection.js';

const run = promisify(execFile);

/** A running local cluster. */
export interface LocalRedisCluster {
  /** Every node, as `REDIS_CLUSTER_NODES` takes them. */
  readonly nodes: readonly ClusterSeed[];
  /** A URL of one node (for REDIS_URL, which gives only credentials and scheme on a cluster). */
  readonly url: string;
  /** The port of the master that serves `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** Kills the node on `port` (SIGKILL: no goodbye) and waits until its replica took over its slots. */
  killMaster(port: number): Promise<void>;
  stop(): Promise<void>;
}

async function clusterInfo(port: number): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await client.connect();
    return (await client.call('CLUSTER', 'INFO')) as string;
  } catch {
    return '';
  } finally {
    client.disconnect();
  }
}

async function replicationInfo(port: number): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await client.connect();
    return await client.info('replication');
  } catch {
    return '';
  } finally {
    client.disconnect();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts six nodes and forms the cluster; resolves when every live node reports `cluster_state:ok`. */
export async function startLocalRedisCluster(): Promise<LocalRedisCluster> {
  const folder = mkdtempSync(join(tmpdir(), 'keyward-redis-cluster-'));
  const processes = new Map<number, ChildProcess>();
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) {
    let port = await findFreePort();
    // The cluster bus listens on port + 10000: both must be free, and distinct from the others'.
    while (port > 55_535 || ports.includes(port)) port = await findFreePort();
    ports.push(port);
  }
  const stop = async (): Promise<void> => {
    for (const child of processes.values()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const dir = join(folder, String(port));
      mkdirSync(dir);
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', '1500', '--appendonly', 'yes', '--save', '', '--protected-mode', 'no',
          // A replica promotes itself however long ago it last heard from its master (the default
          // refuses after about 25 s here: a busy test machine can get there).
          '--cluster-replica-validity-factor', '0'],
        { stdio: 'ignore' },
      );
      processes.set(port, child);
    }
    await until('every node answering', async () => (await Promise.all(ports.map(clusterInfo))).every((info) => info !== ''));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes']);
    await until('cluster_state:ok on every node', async () => (await Promise.all(ports.map(clusterInfo))).every((info) => info.includes('cluster_state:ok')));
    // Every replica in sync with its master: a replica that never synced cannot take over.
    await until('every replica linked to its master', async () => {
      const links = (await Promise.all(ports.map((port) => replicationInfo(port)))).filter((info) => info.includes('role:slave'));
      return links.length === 3 && links.every((info) => info.includes('master_link_status:up'));
    });
  } catch (error) {
    await stop();
    throw error;
  }

  const live = () => ports.filter((port) => processes.get(port)?.exitCode === null && processes.get(port)?.signalCode === null);
  const masterOf = async (key: string): Promise<number> => {
    const client = new Redis({ port: live()[0] as number, host: '127.0.0.1' });
    client.on('error', () => undefined);
    try {
      const slot = (await client.call('CLUSTER', 'KEYSLOT', key)) as number;
      const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      if (range === undefined) throw new Error(`no node serves slot ${slot}`);
      return range[2][1];
    } finally {
      client.disconnect();
    }
  };
  /** The ports of the masters that serve slots, as a live node sees them. */
  const servingPorts = async (): Promise<number[]> => {
    const client = new Redis({ port: live()[0] as number, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      await client.connect();
      const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
      return slots.map((range) => range[2][1]);
    } catch {
      return [];
    } finally {
      client.disconnect();
    }
  };
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    url: `redis://127.0.0.1:${ports[0]}`,
    masterOf,
    async killMaster(port) {
      const child = processes.get(port);
      if (child === undefined) throw new Error(`no node on ${port}`);
      child.kill('SIGKILL');
      await once(child, 'exit');
      // Right after the kill the others still report cluster_state:ok: wait until no slot is
      // served by the dead node any more (its replica took them) and the cluster is ok.
      await until('a replica promoted and cluster_state:ok', async () => {
        const infos = await Promise.all(live().map(clusterInfo));
        return infos.every((info) => info.includes('cluster_state:ok')) && !(await servingPorts()).includes(port);
      });
    },
    stop,
  };
}
