/**
 * Seat changes on one plan (a per-seat subscription's quantity, as change_plan with the plan's
 * seats set): more seats apply now, fewer wait for the end of the paid period; when fewer take
 * effect, the machines bound last above the new count are freed, after any the command chose.
 *
 * Invariant (property): once a seat change is in force, at most that many machines are bound,
 * and they are the ones bound first (apart from those chosen to be freed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { applyCommand } from '../../lib/lifecycle/apply-command.js';
import { activationIdFor } from '../../lib/lifecycle/binding-value.js';
import type { LicenseCommand } from '../../lib/lifecycle/commands.js';
import { issueLicense } from '../../lib/lifecycle/issue-license.js';
import type { License } from '../../lib/lifecycle/license.js';
import type { LifecycleResult } from '../../lib/lifecycle/outcome.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { withSeats, type Plan } from '../../lib/plans/plan.js';

const catalogue = loadPlanCatalogue({
  plans: [
    { id: 'solo', rank: 10, limits: { maxActivations: 1, maxDomains: null, validationsPerMonth: null } },
    { id: 'seats', rank: 20, limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null }, stripePriceIds: [{ id: 'price_seat', perSeat: true }] },
    { id: 'floating', rank: 30, limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null, floating: { heartbeatSeconds: 600 } } },
  ],
});
const plan = (id: string): Plan => catalogue.get(id) ?? (() => { throw new Error(`no plan ${id}`); })();

const ISSUED = new Date('2025-01-01T00:00:00Z');
const MID = new Date('2025-01-15T00:00:00Z');
const PERIOD_END = new Date('2025-02-01T00:00:00Z');
const LICENSE_ID = 'lic_0000000000seat';
const minute = (n: number) => new Date(ISSUED.getTime() + n * 60_000);
const machine = (n: number) => activationIdFor(LICENSE_ID, 'machine', `fp-${n}`);

function ok(result: LifecycleResult): License {
  if (!result.ok) throw new Error(`expected success, got ${result.refusal.code}: ${result.refusal.message}`);
  return result.license;
}

/** A license on `planId` with `seats` seats and `bound` machines, bound a minute apart (fp-0 first). */
function licenseWith(planId: string, seats: number, bound: number, periodEndsAt: Date | null = PERIOD_END): License {
  let license = ok(issueLicense({ id: LICENSE_ID, keyDigest: 'd'.repeat(64), keyType: 'production', product: 'editor', plan: withSeats(plan(planId), seats), periodEndsAt }, ISSUED));
  for (let n = 0; n < bound; n++) license = ok(applyCommand(license, { type: 'activate', kind: 'machine', value: `fp-${n}` }, minute(n)));
  return license;
}
const seatChange = (planId: string, seats: number, extra: Partial<Extract<LicenseCommand, { type: 'change_plan' }>> = {}): LicenseCommand => ({
  type: 'change_plan',
  plan: withSeats(plan(planId), seats),
  ...extra,
});

describe('seat changes on one plan', () => {
  it("keeps the license's seats on its own plan when asked to (the admin API): SAME_PLAN, or cancels a pending change", () => {
    const seven = licenseWith('seats', 7, 2);
    const same = applyCommand(seven, { type: 'change_plan', plan: plan('seats'), keepSeats: true }, MID);
    expect(same.ok ? null : same.refusal.code).toBe('SAME_PLAN');
    const reduced = ok(applyCommand(seven, seatChange('seats', 4), MID));
    const cancelled = ok(applyCommand(reduced, { type: 'change_plan', plan: plan('seats'), keepSeats: true }, MID));
    expect(cancelled).toMatchObject({ limits: { maxActivations: 7 }, pendingChange: null });
  });

  it('more seats apply now, and drop a pending reduction', () => {
    const reduced = ok(applyCommand(licenseWith('seats', 7, 2), seatChange('seats', 4), MID));
    expect(reduced).toMatchObject({ limits: { maxActivations: 7 }, pendingChange: { planId: 'seats', limits: { maxActivations: 4 }, effectiveAt: PERIOD_END } });
    const result = applyCommand(reduced, seatChange('seats', 10), MID);
    expect(ok(result)).toMatchObject({ planId: 'seats', limits: { maxActivations: 10 }, pendingChange: null });
    expect(result.ok && result.audit.details).toMatchObject({ kind: 'upgrade', fromSeats: 7, toSeats: 10, cancelledPendingPlanId: 'seats' });
  });

  it('fewer seats wait for the period end with every machine kept; then the machines bound last above the count are freed', () => {
    const license = licenseWith('seats', 7, 6);
    const scheduled = applyCommand(license, seatChange('seats', 4), MID);
    expect(scheduled.ok && scheduled.audit.details).toMatchObject({ kind: 'downgrade_scheduled', fromSeats: 7, toSeats: 4, effectiveAt: PERIOD_END });
    const pending = ok(scheduled);
    expect(pending.activations).toHaveLength(6);
    expect(pending.limits.maxActivations).toBe(7);
    const applied = applyCommand(pending, { type: 'apply_pending_change' }, PERIOD_END);
    expect(ok(applied)).toMatchObject({ limits: { maxActivations: 4 }, pendingChange: null });
    expect(ok(applied).activations.map((a) => a.id)).toEqual([0, 1, 2, 3].map(machine));
    expect(applied.ok && applied.audit.details).toMatchObject({ autoFreedActivationIds: [machine(4), machine(5)] });
  });

  it('fewer seats on a perpetual license apply now: the chosen machines are freed first, then the newest above the count', () => {
    const result = applyCommand(licenseWith('seats', 7, 6, null), seatChange('seats', 3, { freeActivationIds: [machine(0)] }), MID);
    expect(ok(result).activations.map((a) => a.id)).toEqual([1, 2, 3].map(machine));
    expect(result.ok && result.audit.details).toMatchObject({ kind: 'downgrade', freedActivationIds: [machine(0)], autoFreedActivationIds: [machine(4), machine(5)] });
  });

  it('the same seats again cancel a pending reduction; a change to another plan with fewer seats still needs a choice', () => {
    const pending = ok(applyCommand(licenseWith('seats', 7, 2), seatChange('seats', 4), MID));
    expect(ok(applyCommand(pending, seatChange('seats', 7), MID))).toMatchObject({ limits: { maxActivations: 7 }, pendingChange: null });
    expect(applyCommand(licenseWith('seats', 7, 2), { type: 'change_plan', plan: plan('solo') }, MID)).toMatchObject({ ok: false, refusal: { code: 'SEATS_EXCEED_PLAN' } });
  });

  it('on floating seats the count is the machines in use at once', () => {
    const license = ok(applyCommand(licenseWith('floating', 3, 0), seatChange('floating', 5), MID));
    let current = license;
    for (let n = 0; n < 5; n++) current = ok(applyCommand(current, { type: 'activate', kind: 'machine', value: `fp-${n}` }, MID));
    expect(applyCommand(current, { type: 'activate', kind: 'machine', value: 'fp-6' }, MID)).toMatchObject({ ok: false, refusal: { code: 'ACTIVATION_LIMIT_REACHED', details: { limit: 5 } } });
  });

  it('property: once a seat change is in force, at most that many machines are bound, the first bound kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.boolean(), (from, boundWanted, to, perpetual) => {
        const bound = Math.min(from, boundWanted);
        const license = licenseWith('seats', from, bound, perpetual ? null : PERIOD_END);
        const changed = applyCommand(license, seatChange('seats', to), MID);
        if (from === to) {
          expect(changed).toMatchObject({ ok: false, refusal: { code: 'SAME_PLAN' } });
          return;
        }
        let result = ok(changed);
        if (result.pendingChange !== null) {
          expect(to).toBeLessThan(from);
          expect(result.activations).toHaveLength(bound);
          result = ok(applyCommand(result, { type: 'apply_pending_change' }, PERIOD_END));
        }
        expect(result.limits.maxActivations).toBe(to);
        expect(result.activations.map((a) => a.id)).toEqual([...Array(Math.min(bound, to)).keys()].map(machine));
      }),
    );
  });
});
