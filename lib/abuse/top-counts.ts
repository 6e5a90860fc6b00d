/** "Top N" evidence from a bucket hash's counted fields. */
import type { CountedValue } from './abuse-signal.js';

/**
 * The fields of `hash` that start with `prefix`, as values (prefix removed) with their counts,
 * highest count first (ties by value), at most `limit`.
 */
export function topCounts(hash: Readonly<Record<string, string>>, prefix: string, limit = 20): CountedValue[] {
  const counted: CountedValue[] = [];
  for (const [field, count] of Object.entries(hash)) {
    if (field.startsWith(prefix)) counted.push({ value: field.slice(prefix.length), count: Number(count) });
  }
  counted.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return counted.slice(0, limit);
}
