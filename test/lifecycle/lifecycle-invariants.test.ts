/**
 * Properties of the lifecycle that hold after any sequence of commands. Sequences start at a
 * fixed instant and move time forward; plans are small so that seats fill up; fingerprints and
 * domains come from small pools (some spelled differently but normalising to the same seat) so
 * that activations collide.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { limitFor, seatsOf } from '../../lib/lifecycle/activation.js';
import { applyCommand } from '../../lib/lifecycle/apply-command.js';
import { activationIdFor } from '../../lib/lifecycle/binding-value.js';
import type { LicenseCommand } from '../../lib/lifecycle/commands.js';
import { issueLicense } from '../../lib/lifecycle/issue-license.js';
import type { ActivationKind, License, RevocationReason, SuspensionReason } from '../../lib/lifecycle/license.js';
import type { LifecycleResult } from '../../lib/lifecycle/outcome.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import type { Plan, PlanLimits } from '../../lib/plans/plan.js';

const START = new Date('2025-01-01T00:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 86_400_000;
const LICENSE_ID = 'lic_0000000000prop';
const KEY_DIGEST = 'e'.repeat(64);
/** Runs per property: small enough for well under a second each. */
const NUM_RUNS = 300;
/**
 * Runs for the seat properties. An overflow needs seats bound, then a change to a plan with
 * fewer: at this count, an upgrade that kept every seat (fixed in b5f40d9) failed the
 * any-catalogue property in 30 runs out of 30.
 */
const SEAT_RUNS = 600;

// `' fp-a '` is the seat `fp-a`; `FP-A` is another one. `https://www.a.example/` is `a.example`.
const FINGERPRINTS = ['fp-a', 'fp-b', 'fp-c', ' fp-a ', 'FP-A'] as const;
const DOMAINS = ['a.example', 'b.example', 'c.example', 'https://www.a.example/'] as const;
const KINDS: readonly ActivationKind[] = ['machine', 'domain'];
const SUSPENSION_REASONS: readonly SuspensionReason[] = ['payment_failed', 'abuse_hold', 'dispute', 'manual'];
const REVOCATION_REASONS: readonly RevocationReason[] = ['refund', 'chargeback', 'abuse', 'manual'];

/** Every activation id the pools can produce, plus one that no seat has. */
const KNOWN_ACTIVATION_IDS = [
  ...['fp-a', 'fp-b', 'fp-c', 'FP-A'].map((fp) => activationIdFor(LICENSE_ID, 'machine', fp)),
  ...['a.example', 'b.example', 'c.example'].map((domain) => activationIdFor(LICENSE_ID, 'domain', domain)),
  'act_ffffffffffffffff',
];

// ---------------------------------------------------------------------------------------------
// Catalogues
// ---------------------------------------------------------------------------------------------

function catalogueOf(limits: readonly PlanLimits[]): readonly Plan[] {
  return loadPlanCatalogue({
    plans: limits.map((planLimits, index) => ({ id: `plan-${index}`, rank: index * 10, limits: planLimits, features: [`f${index}`] })),
  }).plans;
}

/** Any valid catalogue of 2-4 plans with small limits; rank and seats are unrelated. */
const anyCatalogue = fc
  .array(
    fc.record({
      maxActivations: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) }),
      maxDomains: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 2 }) }),
      validationsPerMonth: fc.constantFrom(null, 1000),
    }),
    { minLength: 2, maxLength: 3 },
  )
  .map(catalogueOf);

/** A limit per plan for one kind: off on every plan, or seats that never shrink as rank rises. */
const growingLimits = (count: number, max: number) =>
  fc.oneof(
    fc.constant(Array.from({ length: count }, () => null)),
    fc.array(fc.integer({ min: 1, max }), { minLength: count, maxLength: count }).map((seats) => [...seats].sort((a, b) => a - b)),
  );

/** Catalogues where a higher rank never has fewer seats of a kind than a lower one. */
const growingCatalogue = fc
  .integer({ min: 2, max: 4 })
  .chain((count) => fc.tuple(growingLimits(count, 3), growingLimits(count, 2)))
  .map(([machines, domains]) =>
    catalogueOf(machines.map((maxActivations, index) => ({ maxActivations, maxDomains: domains[index] ?? null, validationsPerMonth: null }))),
  );

// ---------------------------------------------------------------------------------------------
// Commands and scenarios
// ---------------------------------------------------------------------------------------------

/**
 * A step: time moves on, then a command runs. Two kinds of step are resolved when they run: a
 * renewal relative to the step's `now`, and a plan change that frees the oldest `freeCount`
 * activations bound at that moment (so that downgrades choose seats that exist).
 */
type Step =
  | { readonly advanceMs: number; readonly command: LicenseCommand }
  | { readonly advanceMs: number; readonly renewForDays: number; readonly endsTrial: boolean }
  | { readonly advanceMs: number; readonly changePlanTo: Plan; readonly freeCount: number };

const advance = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(0, HOUR, DAY) },
  { weight: 2, arbitrary: fc.constantFrom(3 * DAY, 7 * DAY) },
  { weight: 1, arbitrary: fc.constantFrom(20 * DAY, 35 * DAY) },
);

const bindingValue = (kind: ActivationKind) => (kind === 'machine' ? fc.constantFrom(...FINGERPRINTS) : fc.constantFrom(...DOMAINS));
const kind = fc.constantFrom(...KINDS);

function commandOf(plans: readonly Plan[]): fc.Arbitrary<LicenseCommand> {
  return fc.oneof(
    {
      weight: 14,
      arbitrary: kind.chain((k) => bindingValue(k).map((value): LicenseCommand => ({ type: 'activate', kind: k, value }))),
    },
    {
      weight: 4,
      arbitrary: fc.oneof(
        fc.constantFrom(...KNOWN_ACTIVATION_IDS).map((activationId): LicenseCommand => ({ type: 'deactivate', activationId })),
        kind.chain((k) => bindingValue(k).map((value): LicenseCommand => ({ type: 'deactivate', kind: k, value }))),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...SUSPENSION_REASONS).map((reason): LicenseCommand => ({ type: 'suspend', reason })),
    },
    {
      weight: 3,
      arbitrary: fc
        .option(fc.constantFrom(...SUSPENSION_REASONS), { nil: undefined })
        .map((onlyIf): LicenseCommand => (onlyIf === undefined ? { type: 'reinstate' } : { type: 'reinstate', onlyIf })),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...plans), fc.option(fc.subarray(KNOWN_ACTIVATION_IDS), { nil: undefined, freq: 3 }))
        .map(
          ([plan, freeActivationIds]): LicenseCommand =>
            freeActivationIds === undefined ? { type: 'change_plan', plan } : { type: 'change_plan', plan, freeActivationIds },
        ),
    },
    { weight: 4, arbitrary: fc.constant<LicenseCommand>({ type: 'apply_pending_change' }) },
    { weight: 2, arbitrary: fc.constant<LicenseCommand>({ type: 'cancel' }) },
    { weight: 2, arbitrary: fc.constant<LicenseCommand>({ type: 'resume' }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(undefined, 0, HOUR, 3 * DAY).map((graceMs): LicenseCommand =>
        graceMs === undefined ? { type: 'expire' } : { type: 'expire', graceMs },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...REVOCATION_REASONS).map((reason): LicenseCommand => ({ type: 'revoke', reason })),
    },
  );
}

function stepOf(plans: readonly Plan[]): fc.Arbitrary<Step> {
  return fc.oneof(
    { weight: 7, arbitrary: fc.record({ advanceMs: advance, command: commandOf(plans) }) },
    {
      weight: 2,
      arbitrary: fc.record({ advanceMs: advance, renewForDays: fc.constantFrom(-1, 1, 30, 30, 30, 365), endsTrial: fc.boolean() }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ advanceMs: advance, changePlanTo: fc.constantFrom(...plans), freeCount: fc.integer({ min: 0, max: 3 }) }),
    },
  );
}

/** How the license starts: paid for 30 days, perpetual, or a 14-day trial. */
type Start = 'paid' | 'perpetual' | 'trial';

interface Scenario {
  readonly plans: readonly Plan[];
  readonly startPlan: Plan;
  readonly start: Start;
  readonly steps: readonly Step[];
}

function scenario(catalogue: fc.Arbitrary<readonly Plan[]>, maxSteps = 40): fc.Arbitrary<Scenario> {
  return catalogue.chain((plans) =>
    fc.record({
      plans: fc.constant(plans),
      startPlan: fc.constantFrom(...plans),
      start: fc.constantFrom<Start>('paid', 'perpetual', 'trial'),
      steps: fc.array(stepOf(plans), { minLength: 1, maxLength: maxSteps, size: 'max' }),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Running a scenario
// ---------------------------------------------------------------------------------------------

/** One command as it ran: the license before, what was asked, at what time, and the outcome. */
interface Ran {
  readonly before: License;
  readonly command: LicenseCommand;
  readonly now: Date;
  readonly result: LifecycleResult;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function issued(s: Pick<Scenario, 'startPlan' | 'start'>): License {
  const result = issueLicense(
    {
      id: LICENSE_ID,
      keyDigest: KEY_DIGEST,
      keyType: 'production',
      product: 'editor',
      plan: s.startPlan,
      periodEndsAt: s.start === 'perpetual' ? null : new Date(START.getTime() + 30 * DAY),
      ...(s.start === 'trial' ? { trial: true, trialEndsAt: new Date(START.getTime() + 14 * DAY) } : {}),
    },
    START,
  );
  if (!result.ok) throw new Error(`issue refused: ${result.refusal.code}`);
  return result.license;
}

function commandFor(step: Step, license: License, now: Date): LicenseCommand {
  if ('command' in step) return step.command;
  if ('changePlanTo' in step) {
    const freeActivationIds = license.activations.slice(0, step.freeCount).map((a) => a.id);
    return { type: 'change_plan', plan: step.changePlanTo, freeActivationIds };
  }
  const periodEndsAt = new Date(now.getTime() + step.renewForDays * DAY);
  return step.endsTrial ? { type: 'renew', periodEndsAt, endsTrial: true } : { type: 'renew', periodEndsAt };
}

/**
 * Applies every step to a deep-frozen license (so that a mutation throws), keeping the new
 * license after a success and the old one after a refusal.
 */
function run(license: License, steps: readonly Step[], from = START): { readonly final: License; readonly trace: readonly Ran[] } {
  let current = deepFreeze(license);
  let time = from.getTime();
  const trace: Ran[] = [];
  for (const step of steps) {
    time += step.advanceMs;
    const now = new Date(time);
    const command = commandFor(step, current, now);
    const result = applyCommand(current, command, now);
    trace.push({ before: current, command, now, result });
    if (result.ok) current = deepFreeze(result.license);
  }
  return { final: current, trace };
}

function seatsWithinLimits(license: License): boolean {
  return KINDS.every((k) => {
    const limit = limitFor(license, k);
    return limit === null || seatsOf(license, k) <= limit;
  });
}

// ---------------------------------------------------------------------------------------------

describe('lifecycle invariants over random command sequences', () => {
  it('(a) once revoked, every later command is refused and the license never changes', () => {
    fc.assert(
      fc.property(
        scenario(anyCatalogue, 15).chain((s) =>
          fc.record({
            s: fc.constant(s),
            revokeAfter: fc.constantFrom(...REVOCATION_REASONS).map((reason): Step => ({ advanceMs: HOUR, command: { type: 'revoke', reason } })),
            later: fc.array(stepOf(s.plans), { minLength: 1, maxLength: 25 }),
          }),
        ),
        ({ s, revokeAfter, later }) => {
          const { final: revoked } = run(issued(s), [...s.steps, revokeAfter]);
          expect(revoked.status).toBe('revoked');
          const snapshot = structuredClone(revoked);

          const { final, trace } = run(revoked, later, revoked.updatedAt);

          for (const { command, result } of trace) {
            expect(result).toMatchObject({
              ok: false,
              refusal: { code: command.type === 'revoke' ? 'ALREADY_REVOKED' : 'LICENSE_REVOKED' },
            });
          }
          expect(final).toEqual(snapshot);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('(b) the key digest and id are the same after any sequence, plan changes included', () => {
    fc.assert(
      fc.property(scenario(anyCatalogue), (s) => {
        const { final, trace } = run(issued(s), s.steps);

        for (const { result } of trace) {
          if (result.ok) {
            expect(result.license.keyDigest).toBe(KEY_DIGEST);
            expect(result.license.id).toBe(LICENSE_ID);
            expect(result.audit.licenseId).toBe(LICENSE_ID);
          }
        }
        expect([final.id, final.keyDigest]).toEqual([LICENSE_ID, KEY_DIGEST]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('(c) seats never exceed the limits of the current plan when higher ranks never have fewer seats', () => {
    fc.assert(
      fc.property(scenario(growingCatalogue), (s) => {
        const { trace } = run(issued(s), s.steps);

        for (const { result } of trace) {
          if (result.ok) expect(seatsWithinLimits(result.license), JSON.stringify(result.license)).toBe(true);
        }
      }),
      { numRuns: SEAT_RUNS },
    );
  });

  // Ranks and seats are independent in a valid catalogue, so an "upgrade" can go to fewer seats.
  it('(c) seats never exceed the limits of the current plan, for any valid catalogue', () => {
    fc.assert(
      fc.property(scenario(anyCatalogue), (s) => {
        const { trace } = run(issued(s), s.steps);

        for (const { command, result } of trace) {
          if (result.ok) {
            expect(
              seatsWithinLimits(result.license),
              `after ${command.type}: limits ${JSON.stringify(result.license.limits)}, seats ${JSON.stringify(result.license.activations.map((a) => a.value))}`,
            ).toBe(true);
          }
        }
      }),
      { numRuns: SEAT_RUNS },
    );
  });

  it('(d) the version is 1 + the number of successful commands', () => {
    fc.assert(
      fc.property(scenario(anyCatalogue), (s) => {
        const { final, trace } = run(issued(s), s.steps);

        for (const { before, result } of trace) {
          if (result.ok) expect(result.license.version).toBe(before.version + 1);
        }
        expect(final.version).toBe(1 + trace.filter(({ result }) => result.ok).length);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  /** Any command of the union, with values a buggy caller could send. */
  const wildCommand: fc.Arbitrary<LicenseCommand> = anyCatalogue.chain((plans) =>
    fc.oneof(
      commandOf(plans),
      fc.record({ type: fc.constant('activate' as const), kind, value: fc.string({ maxLength: 300, unit: 'binary' }) }),
      fc.record({ type: fc.constant('deactivate' as const), activationId: fc.string() }),
      fc.record({ type: fc.constant('deactivate' as const), kind, value: fc.string() }),
      fc.record({ type: fc.constant('renew' as const), periodEndsAt: fc.date({ noInvalidDate: false }), endsTrial: fc.boolean() }),
      fc.record({ type: fc.constant('expire' as const), graceMs: fc.oneof(fc.integer(), fc.double()) }),
      fc.record({
        type: fc.constant('change_plan' as const),
        plan: fc.constantFrom(...plans),
        freeActivationIds: fc.array(fc.oneof(fc.constantFrom(...KNOWN_ACTIVATION_IDS), fc.string())),
      }),
    ),
  );

  it('(e) applyCommand never throws, whatever the state and the command', () => {
    fc.assert(
      fc.property(
        scenario(anyCatalogue, 20),
        fc.array(fc.tuple(advance, wildCommand), { minLength: 1, maxLength: 10 }),
        (s, wild) => {
          const { final } = run(issued(s), s.steps);
          let time = final.updatedAt.getTime();

          for (const [advanceMs, command] of wild) {
            time += advanceMs;
            expect(() => applyCommand(final, command, new Date(time))).not.toThrow();
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
