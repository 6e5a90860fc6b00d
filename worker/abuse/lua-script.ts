/**
 * A Lua script run by its SHA1 (EVALSHA), loaded on first use and again after a Redis restart
 * forgot it (NOSCRIPT). The stream consumer's fenced operations are scripts because a check of
 * the partition lease and the stream command after it must be one atomic step.
 */
import { createHash } from 'node:crypto';

import type { Redis } from 'ioredis';

/** A script and its SHA1. */
export class LuaScript {
  /** SHA1 of the source, as EVALSHA takes it. */
  readonly sha: string;

  /** @param source - The Lua source; its keys must share one hash tag on Redis Cluster. */
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Runs the script; when Redis does not know it yet, runs it with EVAL (which also caches it).
   *
   * @param redis - Connection to run it on.
   * @param keys - KEYS of the script.
   * @param args - ARGV of the script.
   */
  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Whether a Redis error is the reply of a script that found the partition lease held by another. */
export function isLeaseLost(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('LEASELOST');
}
