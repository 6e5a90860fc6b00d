/**
 * Stream partitioning: validation events are spread over a fixed number of Redis streams, so that
 * several workers can consume in parallel and Redis Cluster can place the streams on different
 * nodes (design.md, Scale path). An event's partition follows from its routing key alone, so the
 * server instances agree on it without talking to each other.
 */
import { ConfigurationError } from '../errors/keyward-error.js';

/** Key prefix of the validation event streams. */
export const DEFAULT_STREAM_PREFIX = 'keyward:events';

/**
 * The stream key of one partition: `<prefix>:{<partition>}`, e.g. `keyward:events:{7}`.
 *
 * The braces are a Redis Cluster hash tag: only `7` is hashed, so each partition sits on one slot
 * whatever the prefix, and the partitions' tags hash to different slots, hence spread over nodes.
 *
 * @param partition - Partition number, from 0.
 * @param prefix - Key prefix; must not contain braces, which would change the hash tag.
 *   Default: {@link DEFAULT_STREAM_PREFIX}.
 * @throws ConfigurationError when the partition is not a non-negative integer or the prefix holds braces.
 */
export function streamKeyFor(partition: number, prefix: string = DEFAULT_STREAM_PREFIX): string {
  if (!Number.isInteger(partition) || partition < 0) {
    throw new ConfigurationError('partition', `must be a non-negative integer, got ${partition}`);
  }
  checkStreamPrefix(prefix);
  return `${prefix}:{${partition}}`;
}

/**
 * Every partition's stream key, partition 0 first (what a worker subscribes to).
 *
 * @param partitions - Number of partitions.
 * @param prefix - Key prefix. Default: {@link DEFAULT_STREAM_PREFIX}.
 */
export function allStreamKeys(partitions: number, prefix: string = DEFAULT_STREAM_PREFIX): string[] {
  checkPartitionCount(partitions);
  return Array.from({ length: partitions }, (_, partition) => streamKeyFor(partition, prefix));
}

/**
 * The partition of a routing key (see `routingKeyOf` in validation-event.ts): the FNV-1a 32-bit
 * hash of its UTF-16 code units (the same as of its bytes for the ASCII ids, hex digests and IPs
 * that route events), modulo the number of partitions. Stable across processes and releases:
 * changing it would split one license's events over two partitions during a rolling deploy.
 *
 * @param routingKey - License id, key digest or IP.
 * @param partitions - Number of partitions, a positive integer.
 * @throws ConfigurationError when `partitions` is not a positive integer.
 */
export function partitionOf(routingKey: string, partitions: number): number {
  checkPartitionCount(partitions);
  return fnv1a32(routingKey) % partitions;
}

/** FNV-1a, 32 bits (offset basis 2166136261, prime 16777619), as an unsigned integer. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function checkPartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new ConfigurationError('partitions', `must be a positive integer, got ${partitions}`);
  }
}

/**
 * Throws a ConfigurationError when `prefix` cannot prefix a stream key: empty, or holding a brace
 * (Redis Cluster hashes the first `{…}` of a key, which would no longer be the partition).
 */
export function checkStreamPrefix(prefix: string, field = 'streamPrefix'): void {
  if (prefix === '' || /[{}]/.test(prefix)) {
    throw new ConfigurationError(field, `must be a non-empty key prefix without braces, got "${prefix}"`);
  }
}
