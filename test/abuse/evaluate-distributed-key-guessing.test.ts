/**
 * Distributed key guessing, as a pure rule: a network group's window is flagged when both its
 * distinct networks and its misses reach their thresholds. Invariant: the verdict is monotone
 * (more misses or more networks never unflag a window), which is what lets the detector store a
 * window's signal whenever it is touched and still end with the verdict of all its events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { DEFAULT_DETECTION_THRESHOLDS } from '../../lib/abuse/detection-thresholds.js';
import { evaluateDistributedKeyGuessing } from '../../lib/abuse/evaluate-distributed-key-guessing.js';

const DEFAULTS = DEFAULT_DETECTION_THRESHOLDS;

describe('evaluateDistributedKeyGuessing', () => {
  it.each([
    ['a sweep: 45 /24s of one /16, 3 keys each', 135, 45, true],
    ['at both thresholds', 40, 20, true],
    ['many networks, too few misses in all', 39, 39, false],
    ['one NAT office with many broken installs (one network)', 200, 1, false],
    ['typos from a few networks of a carrier', 25, 12, false],
    ['19 networks trying many keys (a per-network rule matter)', 400, 19, false],
  ])('%s (%d misses, %d networks): flagged %s', (_name, misses, networks, expected) => {
    expect(evaluateDistributedKeyGuessing({ misses, networks }, DEFAULTS).flagged).toBe(expected);
  });

  it('reports the networks as its value, with a severity from 40 that grows with the spread', () => {
    expect(evaluateDistributedKeyGuessing({ misses: 120, networks: 20 }, DEFAULTS)).toEqual({ flagged: true, value: 20, threshold: 20, severity: 40 });
    expect(evaluateDistributedKeyGuessing({ misses: 300, networks: 100 }, DEFAULTS)).toMatchObject({ value: 100, severity: 100 });
  });

  it('is monotone: adding misses or networks never turns a flagged window back', () => {
    fc.assert(
      fc.property(fc.nat(500), fc.nat(300), fc.nat(200), fc.nat(100), (misses, networks, moreMisses, moreNetworks) => {
        const before = evaluateDistributedKeyGuessing({ misses, networks: Math.min(networks, misses) }, DEFAULTS);
        const after = evaluateDistributedKeyGuessing({ misses: misses + moreMisses, networks: Math.min(networks + moreNetworks, misses + moreMisses) }, DEFAULTS);
        if (before.flagged) {
          expect(after.flagged).toBe(true);
          if (after.flagged) expect(after.value).toBeGreaterThanOrEqual(before.value);
        }
      }),
    );
  });
});
