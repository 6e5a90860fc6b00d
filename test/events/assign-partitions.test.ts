import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { assignPartitions } from '../../lib/events/assign-partitions.js';

describe('assignPartitions', () => {
  it.each([
    [['a'], 4, 'a', [0, 1, 2, 3]],
    [['b', 'a'], 4, 'a', [0, 2]],
    [['b', 'a'], 4, 'b', [1, 3]],
    [['a', 'b', 'c'], 4, 'c', [2]],
    [['a', 'b'], 4, 'z', []],
    [['a', 'a', 'b'], 2, 'b', [1]],
  ])('members %j, %i partitions: %s owns %j', (members, partitions, self, owned) => {
    expect(assignPartitions(members, partitions, self)).toEqual(owned);
  });

  it('gives every partition to exactly one member, and shares differ by at most one', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 64 }), (members, partitions) => {
        const shares = members.map((member) => assignPartitions(members, partitions, member));
        expect(shares.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: partitions }, (_, p) => p));
        const sizes = shares.map((share) => share.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('does not depend on the order the members are listed in', () => {
    expect(assignPartitions(['c', 'a', 'b'], 16, 'b')).toEqual(assignPartitions(['a', 'b', 'c'], 16, 'b'));
  });
});
