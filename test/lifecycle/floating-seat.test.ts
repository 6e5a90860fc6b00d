/** Floating seats as a specification: check-out, heartbeat, lapse, and the concurrent-use limit. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { applyCommand } from '../../lib/lifecycle/apply-command.js';
import { liveMachineSeats } from '../../lib/lifecycle/floating-seat.js';
import { issueLicense } from '../../lib/lifecycle/issue-license.js';
import type { License } from '../../lib/lifecycle/license.js';
import type { LifecycleResult } from '../../lib/lifecycle/outcome.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { decideValidation } from '../../lib/validation/decide-validation.js';

const HEARTBEAT_SECONDS = 300;
const catalogue = loadPlanCatalogue({
  plans: [{ id: 'float', rank: 1, limits: { maxActivations: 2, maxDomains: null, validationsPerMonth: null, floating: { heartbeatSeconds: HEARTBEAT_SECONDS } } }],
});
const ISSUED = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(ISSUED + seconds * 1000);

function licenseOf(result: LifecycleResult): License {
  if (!result.ok) throw new Error(`expected success, got ${result.refusal.code}`);
  return result.license;
}

const fresh = (): License =>
  licenseOf(issueLicense({ id: 'lic_0000000000flt1', keyDigest: 'f'.repeat(64), keyType: 'production', product: 'editor', plan: catalogue.get('float')! }, at(0)));
const checkOut = (license: License, machine: string, seconds: number) => applyCommand(license, { type: 'activate', kind: 'machine', value: machine }, at(seconds));
const heartbeat = (license: License, machine: string, seconds: number) => applyCommand(license, { type: 'heartbeat', fingerprint: machine }, at(seconds));

describe('floating seats', () => {
  it('give out maxActivations seats at once and refuse the next, saying when one frees', () => {
    const two = licenseOf(checkOut(licenseOf(checkOut(fresh(), 'a', 0)), 'b', 10));

    expect(checkOut(two, 'c', 20)).toEqual({
      ok: false,
      refusal: expect.objectContaining({ code: 'ACTIVATION_LIMIT_REACHED', details: { limit: 2, used: 2, nextFreeAt: at(HEARTBEAT_SECONDS).toISOString() } }),
    });
  });

  it('free the seat of a machine that sends no heartbeat for the interval, for the next check-out', () => {
    const two = licenseOf(checkOut(licenseOf(checkOut(fresh(), 'a', 0)), 'b', 10));
    const kept = licenseOf(heartbeat(two, 'b', 200)); // b keeps sending; a goes quiet at 0

    expect(checkOut(kept, 'c', HEARTBEAT_SECONDS - 1)).toMatchObject({ ok: false, refusal: { code: 'ACTIVATION_LIMIT_REACHED' } });
    const taken = licenseOf(checkOut(kept, 'c', HEARTBEAT_SECONDS));
    expect(taken.activations.map((seat) => seat.value)).toEqual(['b', 'c']); // a's lapsed seat is dropped
  });

  it('answer a heartbeat of a lapsed or unknown machine with NOT_ACTIVATED (check out again), and of a fixed plan with NOT_FLOATING', () => {
    const one = licenseOf(checkOut(fresh(), 'a', 0));

    expect(heartbeat(one, 'a', HEARTBEAT_SECONDS)).toMatchObject({ ok: false, refusal: { code: 'NOT_ACTIVATED' } });
    expect(heartbeat(one, 'z', 1)).toMatchObject({ ok: false, refusal: { code: 'NOT_ACTIVATED' } });
    expect(licenseOf(heartbeat(one, 'a', HEARTBEAT_SECONDS - 1)).activations[0]?.lastHeartbeatAt).toEqual(at(HEARTBEAT_SECONDS - 1));
  });

  it('renew the lease of a machine that checks out again while it holds a seat', () => {
    const again = licenseOf(checkOut(licenseOf(checkOut(fresh(), 'a', 0)), 'a', 100));

    expect(again.activations).toHaveLength(1);
    expect(again.activations[0]).toMatchObject({ activatedAt: at(0), lastHeartbeatAt: at(100) });
  });

  it('validate only while the lease runs, and say when it ends', () => {
    const one = licenseOf(checkOut(fresh(), 'a', 0));

    expect(decideValidation(one, { fingerprint: 'a' }, at(HEARTBEAT_SECONDS - 1))).toMatchObject({ code: 'VALID', leaseExpiresAt: at(HEARTBEAT_SECONDS) });
    expect(decideValidation(one, { fingerprint: 'a' }, at(HEARTBEAT_SECONDS))).toMatchObject({ code: 'NOT_ACTIVATED', valid: false });
  });

  it('need maxActivations in the catalogue', () => {
    expect(() =>
      loadPlanCatalogue({ plans: [{ id: 'bad', rank: 1, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: null, floating: { heartbeatSeconds: 60 } } }] }),
    ).toThrow(expect.objectContaining({ context: { field: 'plans[0].limits.floating' } }));
  });

  it('property: whatever machines do and when, the live seats never exceed the limit, and a machine quiet for the interval holds none', () => {
    const step = fc.record({
      machine: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5'),
      action: fc.constantFrom('checkout', 'heartbeat', 'deactivate'),
      advance: fc.integer({ min: 0, max: HEARTBEAT_SECONDS * 2 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let license = fresh();
        let seconds = 0;
        const lastKept = new Map<string, number>();
        for (const { machine, action, advance } of steps) {
          seconds += advance;
          const result =
            action === 'checkout'
              ? checkOut(license, machine, seconds)
              : action === 'heartbeat'
                ? heartbeat(license, machine, seconds)
                : applyCommand(license, { type: 'deactivate', kind: 'machine', value: machine }, at(seconds));
          if (result.ok) {
            license = result.license;
            if (action === 'deactivate') lastKept.delete(machine);
            else lastKept.set(machine, seconds);
          }
          const live = liveMachineSeats(license, at(seconds));
          if (live.length > 2) return false;
          for (const seat of live) {
            const kept = lastKept.get(seat.value);
            if (kept === undefined || seconds - kept >= HEARTBEAT_SECONDS) return false;
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
