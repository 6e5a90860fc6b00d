/**
 * Which stream partitions a consumer should own, given the consumers alive right now. Every
 * consumer computes the same answer from the same member list, so they split the partitions
 * without talking to each other; partition leases (worker/abuse/partition-lease.ts) keep two
 * consumers off one partition while their views of the list briefly differ.
 */

/**
 * The partitions of `self`: members sorted by name, partition `p` goes to member `p mod n`, so
 * the counts differ by at most one. A consumer not in the list (its heartbeat is not yet
 * recorded) gets none.
 *
 * @param members - Names of the live consumers, in any order; duplicates are ignored.
 * @param partitions - Number of partitions.
 * @param self - This consumer's name.
 * @returns Partition numbers, ascending.
 */
export function assignPartitions(members: readonly string[], partitions: number, self: string): number[] {
  const sorted = [...new Set(members)].sort();
  const index = sorted.indexOf(self);
  if (index === -1) return [];
  const owned: number[] = [];
  for (let partition = index; partition < partitions; partition += sorted.length) owned.push(partition);
  return owned;
}
