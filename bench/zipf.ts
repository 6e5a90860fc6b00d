/**
 * Draws ranks from a Zipf distribution: rank r (1-based) of n with probability proportional to
 * 1 / r^s. With s = 1 over 1,000,000 keys the most popular key gets 7% of draws, the top 1,000
 * about half, and the long tail of cold keys the rest: how real client software validates (a
 * few busy installations, most validating once per launch).
 */

/** A sampler of 0-based ranks; `random` returns uniform numbers in [0, 1). */
export function zipfSampler(n: number, s: number, random: () => number = Math.random): () => number {
  if (!Number.isInteger(n) || n < 1) throw new Error('zipfSampler: n must be a positive integer');
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let rank = 1; rank <= n; rank++) {
    total += 1 / rank ** s;
    cumulative[rank - 1] = total;
  }
  return () => {
    const target = random() * total;
    // First index whose cumulative weight exceeds the target.
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}
