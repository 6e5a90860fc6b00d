import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { evaluateSeatSharing, unseatedMachinesAllowed } from '../../lib/abuse/evaluate-seat-sharing.js';

describe('evaluateSeatSharing', () => {
  it.each([
    // seats, machines answered NOT_ACTIVATED in the window, flagged
    [1, 0, false],
    [1, 2, false], // a laptop replaced and one reinstalled before activating
    [1, 3, true],
    [3, 2, false],
    [3, 3, true],
    [25, 13, false], // a team rolling out new machines in batches
    [25, 14, true],
    [null, 500, false], // a plan that binds no machines
  ] as const)('%s seats, %d unseated machines: flagged %s', (seats, unseatedMachines, expected) => {
    expect(evaluateSeatSharing({ seats, unseatedMachines }).flagged).toBe(expected);
  });

  it('scales with the seats sold: a license using its seats as sold is never flagged, and the allowance never shrinks as seats grow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 20_000 }), (seats, unseated) => {
        const verdict = evaluateSeatSharing({ seats, unseatedMachines: unseated });
        expect(verdict.flagged).toBe(unseated > unseatedMachinesAllowed(seats));
        expect(evaluateSeatSharing({ seats, unseatedMachines: 0 }).flagged).toBe(false);
        expect(unseatedMachinesAllowed(seats + 1)).toBeGreaterThanOrEqual(unseatedMachinesAllowed(seats));
        if (verdict.flagged) expect(verdict).toMatchObject({ value: unseated, threshold: unseatedMachinesAllowed(seats) });
      }),
    );
  });
});
