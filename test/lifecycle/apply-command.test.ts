import { describe, expect, it } from 'vitest';

import { applyCommand } from '../../lib/lifecycle/apply-command.js';
import { activationIdFor } from '../../lib/lifecycle/binding-value.js';
import type { Cause, LicenseCommand, LicenseCommandType } from '../../lib/lifecycle/commands.js';
import { issueLicense, type IssueLicenseInput } from '../../lib/lifecycle/issue-license.js';
import type { License, LicenseStatus, SuspensionReason } from '../../lib/lifecycle/license.js';
import type { LifecycleRefusalCode, LifecycleResult } from '../../lib/lifecycle/outcome.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import type { Plan } from '../../lib/plans/plan.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: one catalogue, one license id, fixed instants.
// ---------------------------------------------------------------------------------------------

const catalogue = loadPlanCatalogue({
  plans: [
    { id: 'site', rank: 5, limits: { maxActivations: null, maxDomains: 1, validationsPerMonth: null } },
    { id: 'solo', rank: 10, limits: { maxActivations: 1, maxDomains: null, validationsPerMonth: 10_000 } },
    {
      id: 'pro',
      rank: 20,
      limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null },
      features: ['export'],
      trialDays: 14,
    },
    { id: 'agency', rank: 25, limits: { maxActivations: null, maxDomains: 5, validationsPerMonth: null } },
    {
      id: 'team',
      rank: 30,
      limits: { maxActivations: 10, maxDomains: null, validationsPerMonth: null },
      features: ['export', 'sso'],
    },
  ],
});

function plan(id: string): Plan {
  const found = catalogue.get(id);
  if (!found) throw new Error(`no plan ${id} in the test catalogue`);
  return found;
}

const ISSUED = '2025-01-01T00:00:00.000Z';
const MID = '2025-01-15T12:00:00.000Z';
const JUST_BEFORE_END = '2025-01-31T23:59:59.999Z';
const PERIOD_END = '2025-02-01T00:00:00.000Z';
const AFTER_END = '2025-02-03T00:00:00.000Z';
const NEXT_END = '2025-03-01T00:00:00.000Z';

const at = (iso: string): Date => new Date(iso);

const LICENSE_ID = 'lic_0000000000test';
const KEY_DIGEST = 'd'.repeat(64);

const machineId = (fingerprint: string): string => activationIdFor(LICENSE_ID, 'machine', fingerprint);
const domainId = (domain: string): string => activationIdFor(LICENSE_ID, 'domain', domain);

const activateMachine = (value: string, label?: string): LicenseCommand =>
  label === undefined ? { type: 'activate', kind: 'machine', value } : { type: 'activate', kind: 'machine', value, label };
const activateDomain = (value: string): LicenseCommand => ({ type: 'activate', kind: 'domain', value });
const changePlan = (planId: string, freeActivationIds?: readonly string[]): LicenseCommand =>
  freeActivationIds === undefined
    ? { type: 'change_plan', plan: plan(planId) }
    : { type: 'change_plan', plan: plan(planId), freeActivationIds };

function licenseOf(result: LifecycleResult): License {
  if (!result.ok) throw new Error(`expected success, got ${result.refusal.code}: ${result.refusal.message}`);
  return result.license;
}

/** A license issued at ISSUED on `pro`, paid until PERIOD_END, unless overridden. */
function issue(overrides: Partial<IssueLicenseInput> = {}): License {
  return licenseOf(
    issueLicense(
      {
        id: LICENSE_ID,
        keyDigest: KEY_DIGEST,
        keyType: 'production',
        product: 'editor',
        plan: plan('pro'),
        periodEndsAt: at(PERIOD_END),
        ...overrides,
      },
      at(ISSUED),
    ),
  );
}

type Step = readonly [iso: string, command: LicenseCommand];

/** Applies set-up steps in order; each must succeed (they are not what the test is about). */
function given(license: License, ...steps: readonly Step[]): License {
  return steps.reduce((current, [iso, command]) => licenseOf(applyCommand(current, command, at(iso))), license);
}

const active = (): License => issue();
const perpetual = (): License => issue({ periodEndsAt: null });
const onPlan = (planId: string): License => issue({ plan: plan(planId) });
const withMachines = (planId: string, ...fingerprints: string[]): License =>
  given(onPlan(planId), ...fingerprints.map((fp): Step => [ISSUED, activateMachine(fp)]));
const withDomains = (planId: string, ...domains: string[]): License =>
  given(onPlan(planId), ...domains.map((domain): Step => [ISSUED, activateDomain(domain)]));
const suspendedFor = (reason: SuspensionReason): License => given(active(), [MID, { type: 'suspend', reason }]);
const expired = (): License => given(active(), [AFTER_END, { type: 'expire' }]);
const revoked = (): License => given(active(), [MID, { type: 'revoke', reason: 'refund' }]);
const cancelled = (): License => given(active(), [MID, { type: 'cancel' }]);
/** `pro` with one machine, downgrading to `solo` at the period end. */
const downgradePending = (): License => given(withMachines('pro', 'fp-alpha'), [MID, changePlan('solo')]);

// ---------------------------------------------------------------------------------------------

describe('issueLicense', () => {
  it.each<{ name: string; input: Partial<IssueLicenseInput>; expected: Partial<License> }>([
    {
      name: 'a paid license runs until its period end',
      input: {},
      expected: { planId: 'pro', planRank: 20, trial: null, periodEndsAt: at(PERIOD_END) },
    },
    {
      name: 'a perpetual license has no period end',
      input: { periodEndsAt: null, plan: plan('solo') },
      expected: { planId: 'solo', planRank: 10, trial: null, periodEndsAt: null },
    },
    {
      name: "a trial lasts the plan's trial days",
      input: { trial: true },
      expected: { trial: { endsAt: at('2025-01-15T00:00:00.000Z') }, periodEndsAt: at('2025-01-15T00:00:00.000Z') },
    },
    {
      name: 'a trial ends when billing says, and the paid period end is ignored',
      input: { trial: true, trialEndsAt: at('2025-01-08T00:00:00.000Z'), periodEndsAt: at(NEXT_END) },
      expected: { trial: { endsAt: at('2025-01-08T00:00:00.000Z') }, periodEndsAt: at('2025-01-08T00:00:00.000Z') },
    },
    {
      name: 'a trial on a plan without trial days needs an explicit end',
      input: { trial: true, plan: plan('solo'), trialEndsAt: at(PERIOD_END) },
      expected: { planId: 'solo', trial: { endsAt: at(PERIOD_END) } },
    },
  ])('$name', ({ input, expected }) => {
    const result = issueLicense(
      { id: LICENSE_ID, keyDigest: KEY_DIGEST, keyType: 'production', product: 'editor', plan: plan('pro'), periodEndsAt: at(PERIOD_END), ...input },
      at(ISSUED),
    );

    const license = licenseOf(result);
    const issuedPlan = input.plan ?? plan('pro');
    expect(license).toMatchObject({
      id: LICENSE_ID,
      keyDigest: KEY_DIGEST,
      keyType: 'production',
      product: 'editor',
      customerId: null,
      limits: issuedPlan.limits,
      features: issuedPlan.features,
      status: 'active',
      suspension: null,
      revocation: null,
      cancelAtPeriodEnd: false,
      pendingChange: null,
      activations: [],
      createdAt: at(ISSUED),
      updatedAt: at(ISSUED),
      version: 1,
      ...expected,
    });
  });

  it('writes the first audit entry: issued from nothing to active', () => {
    const cause: Cause = { actor: 'stripe', ref: 'evt_checkout_1' };
    const result = issueLicense(
      { id: LICENSE_ID, keyDigest: KEY_DIGEST, keyType: 'production', product: 'editor', plan: plan('pro'), cause },
      at(ISSUED),
    );

    expect(result.ok && result.audit).toEqual({
      licenseId: LICENSE_ID,
      at: at(ISSUED),
      command: 'issue',
      from: null,
      to: 'active',
      cause,
      details: { planId: 'pro', trial: false, periodEndsAt: null },
    });
  });

  it.each<{ name: string; input: Partial<IssueLicenseInput> }>([
    { name: 'a trial on a plan without trial days and no trial end', input: { trial: true, plan: plan('solo') } },
    { name: 'a period end equal to now', input: { periodEndsAt: at(ISSUED) } },
    { name: 'a period end in the past', input: { periodEndsAt: at('2024-12-31T00:00:00.000Z') } },
    { name: 'a trial end in the past', input: { trial: true, trialEndsAt: at('2024-12-31T00:00:00.000Z') } },
  ])('refuses $name with INVALID_COMMAND', ({ input }) => {
    const result = issueLicense(
      { id: LICENSE_ID, keyDigest: KEY_DIGEST, keyType: 'production', product: 'editor', plan: plan('pro'), ...input },
      at(ISSUED),
    );

    expect(result).toMatchObject({ ok: false, refusal: { code: 'INVALID_COMMAND' } });
  });
});

describe('applyCommand: successful transitions', () => {
  it.each<{ name: string; given: () => License; at: string; command: LicenseCommand; expected: Record<string, unknown> }>([
    {
      name: 'activate binds a machine seat with its label',
      given: active,
      at: MID,
      command: activateMachine('fp-alpha', 'Build box'),
      expected: {
        activations: [{ id: machineId('fp-alpha'), kind: 'machine', value: 'fp-alpha', label: 'Build box', activatedAt: at(MID) }],
      },
    },
    {
      name: 'activate trims the fingerprint',
      given: active,
      at: MID,
      command: activateMachine('  fp-alpha\t'),
      expected: { activations: [{ id: machineId('fp-alpha'), value: 'fp-alpha', label: null }] },
    },
    {
      name: 'activate normalises a domain (scheme, case, www., port, path)',
      given: () => onPlan('site'),
      at: MID,
      command: activateDomain('https://WWW.Example.com:8443/shop?x=1'),
      expected: { activations: [{ id: domainId('example.com'), kind: 'domain', value: 'example.com' }] },
    },
    {
      name: 'deactivate frees a seat by activation id',
      given: () => withMachines('pro', 'fp-alpha', 'fp-beta'),
      at: MID,
      command: { type: 'deactivate', activationId: machineId('fp-alpha') },
      expected: { activations: [{ id: machineId('fp-beta') }] },
    },
    {
      name: 'deactivate frees a seat by kind and value, spelled differently',
      given: () => withDomains('agency', 'example.com', 'example.org'),
      at: MID,
      command: { type: 'deactivate', kind: 'domain', value: 'http://EXAMPLE.com/' },
      expected: { activations: [{ value: 'example.org' }] },
    },
    {
      name: 'deactivate works on a suspended license',
      given: () => given(withMachines('pro', 'fp-alpha'), [MID, { type: 'suspend', reason: 'abuse_hold' }]),
      at: MID,
      command: { type: 'deactivate', activationId: machineId('fp-alpha') },
      expected: { status: 'suspended', activations: [] },
    },
    {
      name: 'deactivate works on an expired license',
      given: () => given(withMachines('pro', 'fp-alpha'), [AFTER_END, { type: 'expire' }]),
      at: AFTER_END,
      command: { type: 'deactivate', activationId: machineId('fp-alpha') },
      expected: { status: 'expired', activations: [] },
    },
    {
      name: 'renew extends the period',
      given: active,
      at: MID,
      command: { type: 'renew', periodEndsAt: at(NEXT_END) },
      expected: { status: 'active', periodEndsAt: at(NEXT_END) },
    },
    {
      name: 'renew lifts a payment_failed suspension',
      given: () => suspendedFor('payment_failed'),
      at: MID,
      command: { type: 'renew', periodEndsAt: at(NEXT_END) },
      expected: { status: 'active', suspension: null, periodEndsAt: at(NEXT_END) },
    },
    {
      name: 'renew does not lift an abuse_hold suspension',
      given: () => suspendedFor('abuse_hold'),
      at: MID,
      command: { type: 'renew', periodEndsAt: at(NEXT_END) },
      expected: { status: 'suspended', suspension: { reason: 'abuse_hold', at: at(MID) }, periodEndsAt: at(NEXT_END) },
    },
    {
      name: 'renew revives an expired license',
      given: expired,
      at: AFTER_END,
      command: { type: 'renew', periodEndsAt: at(NEXT_END) },
      expected: { status: 'active', periodEndsAt: at(NEXT_END) },
    },
    {
      name: 'renew that is paid ends a trial',
      given: () => issue({ trial: true }),
      at: '2025-01-14T00:00:00.000Z',
      command: { type: 'renew', periodEndsAt: at(NEXT_END), endsTrial: true },
      expected: { trial: null, periodEndsAt: at(NEXT_END) },
    },
    {
      name: 'renew that is not paid keeps the trial flag',
      given: () => issue({ trial: true }),
      at: '2025-01-14T00:00:00.000Z',
      command: { type: 'renew', periodEndsAt: at(NEXT_END) },
      expected: { trial: { endsAt: at('2025-01-15T00:00:00.000Z') }, periodEndsAt: at(NEXT_END) },
    },
    {
      name: 'renew gives a perpetual license a period end',
      given: perpetual,
      at: MID,
      command: { type: 'renew', periodEndsAt: at(NEXT_END) },
      expected: { periodEndsAt: at(NEXT_END) },
    },
    {
      name: 'suspend records the reason, time and note',
      given: active,
      at: MID,
      command: { type: 'suspend', reason: 'dispute', note: 'dp_123 opened' },
      expected: { status: 'suspended', suspension: { reason: 'dispute', at: at(MID), note: 'dp_123 opened' } },
    },
    {
      name: 'suspend works on a license whose period ended but has not been expired yet',
      given: active,
      at: AFTER_END,
      command: { type: 'suspend', reason: 'payment_failed' },
      expected: { status: 'suspended', suspension: { reason: 'payment_failed', note: null } },
    },
    {
      name: 'reinstate lifts a suspension',
      given: () => suspendedFor('manual'),
      at: JUST_BEFORE_END,
      command: { type: 'reinstate' },
      expected: { status: 'active', suspension: null },
    },
    {
      name: 'reinstate onlyIf lifts a suspension of that reason',
      given: () => suspendedFor('payment_failed'),
      at: JUST_BEFORE_END,
      command: { type: 'reinstate', onlyIf: 'payment_failed' },
      expected: { status: 'active', suspension: null },
    },
    {
      name: 'change_plan to a higher rank upgrades now',
      given: () => withMachines('pro', 'fp-alpha'),
      at: MID,
      command: changePlan('team'),
      expected: { planId: 'team', planRank: 30, limits: plan('team').limits, features: ['export', 'sso'], pendingChange: null },
    },
    {
      name: 'change_plan works on a suspended license',
      given: () => suspendedFor('payment_failed'),
      at: MID,
      command: changePlan('team'),
      expected: { status: 'suspended', planId: 'team' },
    },
    {
      name: 'change_plan to a lower rank waits for the period end',
      given: () => withMachines('pro', 'fp-alpha'),
      at: MID,
      command: changePlan('solo'),
      expected: {
        planId: 'pro',
        limits: plan('pro').limits,
        pendingChange: {
          planId: 'solo',
          planRank: 10,
          limits: plan('solo').limits,
          features: [],
          effectiveAt: at(PERIOD_END),
          freeActivationIds: [],
        },
      },
    },
    {
      name: 'change_plan to a lower rank applies now on a perpetual license',
      given: () => given(perpetual(), [ISSUED, activateMachine('fp-alpha')], [ISSUED, activateMachine('fp-beta')]),
      at: MID,
      command: changePlan('solo', [machineId('fp-alpha')]),
      expected: { planId: 'solo', limits: plan('solo').limits, pendingChange: null, activations: [{ value: 'fp-beta' }] },
    },
    {
      name: 'change_plan to a lower rank applies now once the period has ended',
      given: () => withMachines('pro', 'fp-alpha'),
      at: AFTER_END,
      command: changePlan('solo'),
      expected: { planId: 'solo', pendingChange: null, activations: [{ value: 'fp-alpha' }] },
    },
    {
      name: 'change_plan back to the current plan cancels a pending downgrade',
      given: downgradePending,
      at: JUST_BEFORE_END,
      command: changePlan('pro'),
      expected: { planId: 'pro', pendingChange: null },
    },
    {
      name: 'apply_pending_change applies a due downgrade',
      given: downgradePending,
      at: PERIOD_END,
      command: { type: 'apply_pending_change' },
      expected: { planId: 'solo', planRank: 10, limits: plan('solo').limits, features: [], pendingChange: null },
    },
    {
      name: 'cancel marks the license to end with its period, still active',
      given: active,
      at: MID,
      command: { type: 'cancel' },
      expected: { status: 'active', cancelAtPeriodEnd: true, periodEndsAt: at(PERIOD_END) },
    },
    {
      name: 'resume withdraws a cancellation',
      given: cancelled,
      at: JUST_BEFORE_END,
      command: { type: 'resume' },
      expected: { status: 'active', cancelAtPeriodEnd: false },
    },
    {
      name: 'expire ends a license at its period end',
      given: active,
      at: PERIOD_END,
      command: { type: 'expire' },
      expected: { status: 'expired' },
    },
    {
      name: 'expire ends a cancelled license and clears the cancellation',
      given: cancelled,
      at: PERIOD_END,
      command: { type: 'expire' },
      expected: { status: 'expired', cancelAtPeriodEnd: false },
    },
    {
      name: 'expire waits for the grace period',
      given: active,
      at: '2025-02-01T01:00:00.000Z',
      command: { type: 'expire', graceMs: 3_600_000 },
      expected: { status: 'expired' },
    },
    {
      name: 'revoke is permanent and drops suspension and pending change',
      given: () => given(downgradePending(), [MID, { type: 'suspend', reason: 'dispute' }]),
      at: JUST_BEFORE_END,
      command: { type: 'revoke', reason: 'chargeback', note: 'ch_123' },
      expected: {
        status: 'revoked',
        revocation: { reason: 'chargeback', at: at(JUST_BEFORE_END), note: 'ch_123' },
        suspension: null,
        pendingChange: null,
      },
    },
    {
      name: 'revoke works on an expired license',
      given: expired,
      at: AFTER_END,
      command: { type: 'revoke', reason: 'abuse' },
      expected: { status: 'revoked', revocation: { reason: 'abuse', note: null } },
    },
  ])('$name', ({ given: before, at: iso, command, expected }) => {
    const license = licenseOf(applyCommand(before(), command, at(iso)));

    expect(license).toMatchObject(expected);
  });
});

/** Every refusal code of outcome.ts; the type below fails to compile when a code is missing. */
const REFUSAL_CODES = [
  'INVALID_COMMAND',
  'LICENSE_REVOKED',
  'LICENSE_EXPIRED',
  'LICENSE_SUSPENDED',
  'ALREADY_REVOKED',
  'ALREADY_EXPIRED',
  'ALREADY_SUSPENDED',
  'ALREADY_CANCELLED',
  'ALREADY_ACTIVATED',
  'NOT_SUSPENDED',
  'NOT_CANCELLED',
  'SUSPENDED_FOR_OTHER_REASON',
  'PERIOD_ENDED',
  'PERIOD_NOT_EXTENDED',
  'NO_PERIOD',
  'NOT_DUE',
  'NO_PENDING_CHANGE',
  'SAME_PLAN',
  'ACTIVATION_LIMIT_REACHED',
  'DOMAIN_LIMIT_REACHED',
  'BINDING_NOT_ALLOWED',
  'NOT_ACTIVATED',
  'SEATS_EXCEED_PLAN',
  'UNKNOWN_ACTIVATION',
  'NOT_FLOATING',
] as const satisfies readonly LifecycleRefusalCode[];

const refusals: readonly { name: string; given: () => License; at: string; command: LicenseCommand; code: LifecycleRefusalCode }[] = [
  { name: 'activate with a blank fingerprint', given: active, at: MID, command: activateMachine('   '), code: 'INVALID_COMMAND' },
  { name: 'activate with a control character', given: active, at: MID, command: activateMachine('fp\u0000x'), code: 'INVALID_COMMAND' },
  { name: 'activate with a fingerprint of 257 characters', given: active, at: MID, command: activateMachine('f'.repeat(257)), code: 'INVALID_COMMAND' },
  { name: 'activate with a domain that is no host name', given: () => onPlan('site'), at: MID, command: activateDomain('not a host!'), code: 'INVALID_COMMAND' },
  { name: 'renew to an invalid date', given: active, at: MID, command: { type: 'renew', periodEndsAt: new Date(Number.NaN) }, code: 'INVALID_COMMAND' },
  { name: 'activate a revoked license', given: revoked, at: MID, command: activateMachine('fp-alpha'), code: 'LICENSE_REVOKED' },
  { name: 'activate an expired license', given: expired, at: AFTER_END, command: activateMachine('fp-alpha'), code: 'LICENSE_EXPIRED' },
  { name: 'activate once the period has ended, before expiry runs', given: active, at: PERIOD_END, command: activateMachine('fp-alpha'), code: 'LICENSE_EXPIRED' },
  { name: 'reinstate an expired license', given: expired, at: AFTER_END, command: { type: 'reinstate' }, code: 'LICENSE_EXPIRED' },
  { name: 'suspend an expired license', given: expired, at: AFTER_END, command: { type: 'suspend', reason: 'manual' }, code: 'LICENSE_EXPIRED' },
  { name: 'cancel an expired license', given: expired, at: AFTER_END, command: { type: 'cancel' }, code: 'LICENSE_EXPIRED' },
  { name: 'resume an expired license', given: expired, at: AFTER_END, command: { type: 'resume' }, code: 'LICENSE_EXPIRED' },
  { name: 'change the plan of an expired license', given: expired, at: AFTER_END, command: changePlan('team'), code: 'LICENSE_EXPIRED' },
  { name: 'activate a suspended license', given: () => suspendedFor('payment_failed'), at: MID, command: activateMachine('fp-alpha'), code: 'LICENSE_SUSPENDED' },
  { name: 'revoke a revoked license', given: revoked, at: MID, command: { type: 'revoke', reason: 'manual' }, code: 'ALREADY_REVOKED' },
  { name: 'expire an expired license', given: expired, at: AFTER_END, command: { type: 'expire' }, code: 'ALREADY_EXPIRED' },
  { name: 'suspend a suspended license', given: () => suspendedFor('abuse_hold'), at: MID, command: { type: 'suspend', reason: 'payment_failed' }, code: 'ALREADY_SUSPENDED' },
  { name: 'cancel a cancelled license', given: cancelled, at: MID, command: { type: 'cancel' }, code: 'ALREADY_CANCELLED' },
  { name: 'activate a bound machine again', given: () => withMachines('pro', 'fp-alpha'), at: MID, command: activateMachine(' fp-alpha '), code: 'ALREADY_ACTIVATED' },
  { name: 'activate a bound machine on a full plan', given: () => withMachines('solo', 'fp-alpha'), at: MID, command: activateMachine('fp-alpha'), code: 'ALREADY_ACTIVATED' },
  { name: 'reinstate an active license', given: active, at: MID, command: { type: 'reinstate' }, code: 'NOT_SUSPENDED' },
  { name: 'resume a license that is not cancelled', given: active, at: MID, command: { type: 'resume' }, code: 'NOT_CANCELLED' },
  { name: 'reinstate an abuse hold as a payment recovery', given: () => suspendedFor('abuse_hold'), at: MID, command: { type: 'reinstate', onlyIf: 'payment_failed' }, code: 'SUSPENDED_FOR_OTHER_REASON' },
  { name: 'reinstate after the period ended while suspended', given: () => suspendedFor('payment_failed'), at: PERIOD_END, command: { type: 'reinstate' }, code: 'PERIOD_ENDED' },
  { name: 'renew to the current period end', given: active, at: MID, command: { type: 'renew', periodEndsAt: at(PERIOD_END) }, code: 'PERIOD_NOT_EXTENDED' },
  { name: 'renew to before the current period end', given: active, at: MID, command: { type: 'renew', periodEndsAt: at('2025-01-20T00:00:00.000Z') }, code: 'PERIOD_NOT_EXTENDED' },
  { name: 'renew an expired license to a time already past', given: expired, at: AFTER_END, command: { type: 'renew', periodEndsAt: at('2025-02-02T00:00:00.000Z') }, code: 'PERIOD_NOT_EXTENDED' },
  { name: 'cancel a perpetual license', given: perpetual, at: MID, command: { type: 'cancel' }, code: 'NO_PERIOD' },
  { name: 'expire before the period end', given: active, at: JUST_BEFORE_END, command: { type: 'expire' }, code: 'NOT_DUE' },
  { name: 'expire within the grace period', given: active, at: '2025-02-01T00:59:59.999Z', command: { type: 'expire', graceMs: 3_600_000 }, code: 'NOT_DUE' },
  { name: 'expire a perpetual license', given: perpetual, at: NEXT_END, command: { type: 'expire' }, code: 'NOT_DUE' },
  { name: 'apply a pending change before it is due', given: downgradePending, at: JUST_BEFORE_END, command: { type: 'apply_pending_change' }, code: 'NOT_DUE' },
  { name: 'apply a pending change when there is none', given: active, at: AFTER_END, command: { type: 'apply_pending_change' }, code: 'NO_PENDING_CHANGE' },
  { name: 'change to the current plan with nothing pending', given: active, at: MID, command: changePlan('pro'), code: 'SAME_PLAN' },
  { name: 'activate a machine beyond the plan', given: () => withMachines('solo', 'fp-alpha'), at: MID, command: activateMachine('fp-beta'), code: 'ACTIVATION_LIMIT_REACHED' },
  { name: 'activate a domain beyond the plan', given: () => withDomains('site', 'example.com'), at: MID, command: activateDomain('example.org'), code: 'DOMAIN_LIMIT_REACHED' },
  { name: 'activate a machine on a domain plan', given: () => onPlan('site'), at: MID, command: activateMachine('fp-alpha'), code: 'BINDING_NOT_ALLOWED' },
  { name: 'activate a domain on a machine plan', given: active, at: MID, command: activateDomain('example.com'), code: 'BINDING_NOT_ALLOWED' },
  { name: 'deactivate an unknown activation id', given: () => withMachines('pro', 'fp-alpha'), at: MID, command: { type: 'deactivate', activationId: machineId('fp-beta') }, code: 'NOT_ACTIVATED' },
  { name: 'deactivate a machine that is not bound', given: () => withMachines('pro', 'fp-alpha'), at: MID, command: { type: 'deactivate', kind: 'machine', value: 'fp-beta' }, code: 'NOT_ACTIVATED' },
  { name: 'deactivate a domain value as a machine', given: () => withDomains('site', 'example.com'), at: MID, command: { type: 'deactivate', kind: 'machine', value: 'example.com' }, code: 'NOT_ACTIVATED' },
  { name: 'downgrade below the bound seats without choosing', given: () => withMachines('pro', 'fp-alpha', 'fp-beta'), at: MID, command: changePlan('solo'), code: 'SEATS_EXCEED_PLAN' },
  { name: 'downgrade freeing too few seats', given: () => withMachines('pro', 'fp-alpha', 'fp-beta', 'fp-gamma'), at: MID, command: changePlan('solo', [machineId('fp-alpha')]), code: 'SEATS_EXCEED_PLAN' },
  { name: 'heartbeat on a plan with fixed seats', given: () => withMachines('pro', 'fp-alpha'), at: MID, command: { type: 'heartbeat', fingerprint: 'fp-alpha' }, code: 'NOT_FLOATING' },
  { name: 'downgrade freeing an activation of another license', given: () => withMachines('pro', 'fp-alpha', 'fp-beta'), at: MID, command: changePlan('solo', ['act_0000000000000000']), code: 'UNKNOWN_ACTIVATION' },
];

describe('applyCommand: refusals', () => {
  it.each(refusals)('$name → $code', ({ given: before, at: iso, command, code }) => {
    const result = applyCommand(before(), command, at(iso));

    expect(result).toMatchObject({ ok: false, refusal: { code } });
  });

  it('reaches every refusal code of outcome.ts', () => {
    const complete: [Exclude<LifecycleRefusalCode, (typeof REFUSAL_CODES)[number]>] extends [never] ? true : false = true;
    expect(complete).toBe(true);
    expect(new Set(refusals.map((row) => row.code))).toEqual(new Set(REFUSAL_CODES));
  });

  it('says how many seats are taken when a plan is full', () => {
    const result = applyCommand(withMachines('solo', 'fp-alpha'), activateMachine('fp-beta'), at(MID));

    expect(result).toMatchObject({ ok: false, refusal: { code: 'ACTIVATION_LIMIT_REACHED', details: { limit: 1, used: 1 } } });
  });

  it('names the existing activation when a seat is activated twice', () => {
    const result = applyCommand(withMachines('pro', 'fp-alpha'), activateMachine('fp-alpha'), at(MID));

    expect(result).toMatchObject({ ok: false, refusal: { code: 'ALREADY_ACTIVATED', details: { activationId: machineId('fp-alpha') } } });
  });
});

describe('applyCommand on a revoked license', () => {
  const everyCommand: Record<LicenseCommandType, LicenseCommand> = {
    activate: activateMachine('fp-alpha'),
    deactivate: { type: 'deactivate', activationId: machineId('fp-alpha') },
    heartbeat: { type: 'heartbeat', fingerprint: 'fp-alpha' },
    renew: { type: 'renew', periodEndsAt: at(NEXT_END) },
    suspend: { type: 'suspend', reason: 'abuse_hold' },
    reinstate: { type: 'reinstate' },
    change_plan: changePlan('team'),
    apply_pending_change: { type: 'apply_pending_change' },
    cancel: { type: 'cancel' },
    resume: { type: 'resume' },
    expire: { type: 'expire' },
    revoke: { type: 'revoke', reason: 'manual' },
  };
  /** Revoked while bound, suspended, cancelled and with a pending downgrade: nothing brings it back. */
  const revokedWithHistory = (): License =>
    given(
      withMachines('pro', 'fp-alpha'),
      [MID, changePlan('solo')],
      [MID, { type: 'cancel' }],
      [MID, { type: 'suspend', reason: 'dispute' }],
      [MID, { type: 'revoke', reason: 'chargeback' }],
    );

  it.each(Object.entries(everyCommand).map(([type, command]) => ({ type, command })))(
    '$type is refused',
    ({ type, command }) => {
      for (const iso of [MID, AFTER_END]) {
        const result = applyCommand(revokedWithHistory(), command, at(iso));

        expect(result).toMatchObject({ ok: false, refusal: { code: type === 'revoke' ? 'ALREADY_REVOKED' : 'LICENSE_REVOKED' } });
      }
    },
  );
});

describe('seats', () => {
  it('a freed seat can be bound again', () => {
    const full = withMachines('solo', 'fp-alpha');

    const license = given(full, [MID, { type: 'deactivate', activationId: machineId('fp-alpha') }], [MID, activateMachine('fp-beta')]);

    expect(license.activations.map((a) => a.value)).toEqual(['fp-beta']);
  });

  it('the same seat on the same license always has the same activation id', () => {
    const license = given(
      active(),
      [ISSUED, activateMachine('fp-alpha')],
      [MID, { type: 'deactivate', kind: 'machine', value: 'fp-alpha' }],
      [MID, activateMachine(' fp-alpha ')],
    );

    expect(license.activations).toEqual([
      { id: machineId('fp-alpha'), kind: 'machine', value: 'fp-alpha', label: null, activatedAt: at(MID) },
    ]);
    expect(machineId('fp-alpha')).toMatch(/^act_[0-9a-f]{16}$/);
  });
});

describe('plan changes', () => {
  const threeMachines = (): License => withMachines('pro', 'fp-alpha', 'fp-beta', 'fp-gamma');

  it('a downgrade below the bound seats says how many to free, per kind', () => {
    const result = applyCommand(threeMachines(), changePlan('solo'), at(MID));

    expect(result).toEqual({
      ok: false,
      refusal: {
        code: 'SEATS_EXCEED_PLAN',
        message: expect.any(String),
        details: { over: [{ kind: 'machine', limit: 1, active: 3, toFree: 2 }] },
      },
    });
  });

  it('a downgrade that chooses which seats to free is pending until the period end, keeping the seats', () => {
    const free = [machineId('fp-beta'), machineId('fp-gamma')];

    const license = licenseOf(applyCommand(threeMachines(), changePlan('solo', free), at(MID)));

    expect(license.planId).toBe('pro');
    expect(license.limits).toEqual(plan('pro').limits);
    expect(license.activations).toHaveLength(3);
    expect(license.pendingChange).toEqual({
      planId: 'solo',
      planRank: 10,
      limits: plan('solo').limits,
      features: [],
      effectiveAt: at(PERIOD_END),
      freeActivationIds: free,
    });
  });

  it('apply_pending_change is not due before the period end and frees the chosen seats when it is', () => {
    const free = [machineId('fp-beta'), machineId('fp-gamma')];
    const pending = given(threeMachines(), [MID, changePlan('solo', free)]);

    expect(applyCommand(pending, { type: 'apply_pending_change' }, at(JUST_BEFORE_END))).toMatchObject({
      ok: false,
      refusal: { code: 'NOT_DUE', details: { effectiveAt: at(PERIOD_END) } },
    });

    const result = applyCommand(pending, { type: 'apply_pending_change' }, at(PERIOD_END));
    const license = licenseOf(result);
    expect(license).toMatchObject({ planId: 'solo', limits: plan('solo').limits, pendingChange: null });
    expect(license.activations.map((a) => a.value)).toEqual(['fp-alpha']);
    expect(result.ok && result.audit.details).toEqual({ toPlanId: 'solo', freedActivationIds: free, autoFreedActivationIds: [] });
  });

  it('limits do not change while a downgrade is pending; seats bound meanwhile are freed newest first', () => {
    const pending = downgradePending();

    const meanwhile = given(pending, ['2025-01-20T00:00:00.000Z', activateMachine('fp-beta')], ['2025-01-21T00:00:00.000Z', activateMachine('fp-gamma')]);
    expect(meanwhile.limits).toEqual(plan('pro').limits);

    const result = applyCommand(meanwhile, { type: 'apply_pending_change' }, at(AFTER_END));
    expect(licenseOf(result).activations.map((a) => a.value)).toEqual(['fp-alpha']);
    expect(result.ok && result.audit.details).toMatchObject({
      freedActivationIds: [],
      autoFreedActivationIds: [machineId('fp-beta'), machineId('fp-gamma')],
    });
  });

  it('an upgrade applies now and cancels a pending downgrade', () => {
    const license = licenseOf(applyCommand(downgradePending(), changePlan('team'), at(JUST_BEFORE_END)));

    expect(license).toMatchObject({ planId: 'team', limits: plan('team').limits, pendingChange: null });
    expect(applyCommand(license, { type: 'apply_pending_change' }, at(AFTER_END))).toMatchObject({
      ok: false,
      refusal: { code: 'NO_PENDING_CHANGE' },
    });
  });

  it('a later downgrade replaces a pending one', () => {
    const license = licenseOf(applyCommand(given(onPlan('team'), [MID, changePlan('pro')]), changePlan('solo'), at(MID)));

    expect(license.pendingChange).toMatchObject({ planId: 'solo' });
  });

  // Ranks order plans, but nothing makes a higher rank have more seats: moving from a
  // five-domain plan to a higher-ranked one-domain plan must not leave five domains validating.
  describe('an upgrade to a higher-ranked plan with fewer seats than are bound', () => {
    const enterprise: Plan = {
      ...plan('team'),
      id: 'enterprise',
      rank: 40,
      limits: { maxActivations: 20, maxDomains: 1, validationsPerMonth: null },
    };
    const threeDomains = (): License => withDomains('agency', 'a.example', 'b.example', 'c.example');

    it('is refused with SEATS_EXCEED_PLAN without a choice of seats to free', () => {
      const result = applyCommand(threeDomains(), { type: 'change_plan', plan: enterprise }, at(MID));

      expect(result).toMatchObject({
        ok: false,
        refusal: { code: 'SEATS_EXCEED_PLAN', details: { over: [{ kind: 'domain', limit: 1, active: 3, toFree: 2 }] } },
      });
    });

    it('applies now with a choice, freeing the chosen seats at once', () => {
      const free = [domainId('a.example'), domainId('c.example')];

      const result = applyCommand(threeDomains(), { type: 'change_plan', plan: enterprise, freeActivationIds: free }, at(MID));

      expect(licenseOf(result)).toMatchObject({ planId: 'enterprise', pendingChange: null, activations: [{ value: 'b.example' }] });
      expect(result.ok && result.audit.details).toEqual({
        fromPlanId: 'agency',
        toPlanId: 'enterprise',
        kind: 'upgrade',
        freedActivationIds: free,
      });
    });
  });
});

describe('suspensions', () => {
  it('renew lifts a payment_failed suspension but not an abuse_hold', () => {
    const renew: LicenseCommand = { type: 'renew', periodEndsAt: at(NEXT_END) };

    expect(licenseOf(applyCommand(suspendedFor('payment_failed'), renew, at(MID))).status).toBe('active');
    expect(licenseOf(applyCommand(suspendedFor('abuse_hold'), renew, at(MID))).status).toBe('suspended');
  });

  // An expiry must not launder a hold: the suspension record outlives it, and a renewal (a
  // payment) lifts only a payment suspension.
  it.each<{ reason: SuspensionReason; afterRenewal: Record<string, unknown> }>([
    { reason: 'abuse_hold', afterRenewal: { status: 'suspended', suspension: { reason: 'abuse_hold', at: at(MID) } } },
    { reason: 'dispute', afterRenewal: { status: 'suspended', suspension: { reason: 'dispute' } } },
    { reason: 'manual', afterRenewal: { status: 'suspended', suspension: { reason: 'manual' } } },
    { reason: 'payment_failed', afterRenewal: { status: 'active', suspension: null } },
  ])('a $reason suspension survives an expiry; renewing afterwards → $afterRenewal.status', ({ reason, afterRenewal }) => {
    const expiredWhileHeld = licenseOf(applyCommand(suspendedFor(reason), { type: 'expire' }, at(AFTER_END)));
    expect(expiredWhileHeld).toMatchObject({ status: 'expired', suspension: { reason } });

    const renewed = licenseOf(applyCommand(expiredWhileHeld, { type: 'renew', periodEndsAt: at(NEXT_END) }, at(AFTER_END)));

    expect(renewed).toMatchObject({ periodEndsAt: at(NEXT_END), ...afterRenewal });
  });

  it.each<{ reason: SuspensionReason; onlyIf: SuspensionReason | undefined; code: 'ok' | LifecycleRefusalCode }>([
    { reason: 'payment_failed', onlyIf: undefined, code: 'ok' },
    { reason: 'abuse_hold', onlyIf: undefined, code: 'ok' },
    { reason: 'payment_failed', onlyIf: 'payment_failed', code: 'ok' },
    { reason: 'dispute', onlyIf: 'dispute', code: 'ok' },
    { reason: 'abuse_hold', onlyIf: 'payment_failed', code: 'SUSPENDED_FOR_OTHER_REASON' },
    { reason: 'manual', onlyIf: 'abuse_hold', code: 'SUSPENDED_FOR_OTHER_REASON' },
  ])('reinstate of a $reason suspension, onlyIf $onlyIf → $code', ({ reason, onlyIf, code }) => {
    const command: LicenseCommand = onlyIf === undefined ? { type: 'reinstate' } : { type: 'reinstate', onlyIf };

    const result = applyCommand(suspendedFor(reason), command, at(JUST_BEFORE_END));

    if (code === 'ok') expect(result).toMatchObject({ ok: true, license: { status: 'active', suspension: null } });
    else expect(result).toMatchObject({ ok: false, refusal: { code, details: { reason } } });
  });

  it('reinstating an expired license is LICENSE_EXPIRED, even if it was suspended before it expired', () => {
    const suspendedThenExpired = given(suspendedFor('payment_failed'), [AFTER_END, { type: 'expire' }]);

    expect(applyCommand(suspendedThenExpired, { type: 'reinstate' }, at(AFTER_END))).toMatchObject({
      ok: false,
      refusal: { code: 'LICENSE_EXPIRED' },
    });
  });
});

describe('audit entries', () => {
  const cause: Cause = { actor: 'stripe', reason: 'webhook', ref: 'evt_1NXyz' };

  it.each<{ command: LicenseCommandType; given: () => License; at: string; run: LicenseCommand; from: LicenseStatus; to: LicenseStatus }>([
    { command: 'activate', given: active, at: MID, run: activateMachine('fp-alpha'), from: 'active', to: 'active' },
    { command: 'deactivate', given: () => withMachines('pro', 'fp-alpha'), at: MID, run: { type: 'deactivate', activationId: machineId('fp-alpha') }, from: 'active', to: 'active' },
    { command: 'renew', given: () => suspendedFor('payment_failed'), at: MID, run: { type: 'renew', periodEndsAt: at(NEXT_END) }, from: 'suspended', to: 'active' },
    { command: 'suspend', given: active, at: MID, run: { type: 'suspend', reason: 'payment_failed' }, from: 'active', to: 'suspended' },
    { command: 'reinstate', given: () => suspendedFor('manual'), at: MID, run: { type: 'reinstate' }, from: 'suspended', to: 'active' },
    { command: 'change_plan', given: active, at: MID, run: changePlan('team'), from: 'active', to: 'active' },
    { command: 'apply_pending_change', given: downgradePending, at: PERIOD_END, run: { type: 'apply_pending_change' }, from: 'active', to: 'active' },
    { command: 'cancel', given: active, at: MID, run: { type: 'cancel' }, from: 'active', to: 'active' },
    { command: 'resume', given: cancelled, at: MID, run: { type: 'resume' }, from: 'active', to: 'active' },
    { command: 'expire', given: active, at: AFTER_END, run: { type: 'expire' }, from: 'active', to: 'expired' },
    { command: 'revoke', given: expired, at: AFTER_END, run: { type: 'revoke', reason: 'refund' }, from: 'expired', to: 'revoked' },
  ])('$command records $from → $to with its cause', ({ command, given: before, at: iso, run, from, to }) => {
    const result = applyCommand(before(), { ...run, cause }, at(iso));

    expect(result.ok && result.audit).toEqual({
      licenseId: LICENSE_ID,
      at: at(iso),
      command,
      from,
      to,
      cause,
      details: expect.any(Object),
    });
  });

  it('defaults the cause to the system', () => {
    const result = applyCommand(active(), { type: 'cancel' }, at(MID));

    expect(result.ok && result.audit.cause).toEqual({ actor: 'system' });
  });

  it.each<{ name: string; given: () => License; at: string; run: LicenseCommand; details: Record<string, unknown> }>([
    { name: 'activate names the seat', given: active, at: MID, run: activateMachine('fp-alpha'), details: { activationId: machineId('fp-alpha'), kind: 'machine' } },
    { name: 'suspend names the reason', given: active, at: MID, run: { type: 'suspend', reason: 'abuse_hold' }, details: { reason: 'abuse_hold' } },
    { name: 'reinstate names the lifted reason', given: () => suspendedFor('dispute'), at: MID, run: { type: 'reinstate' }, details: { liftedReason: 'dispute' } },
    { name: 'an upgrade names both plans', given: active, at: MID, run: changePlan('team'), details: { fromPlanId: 'pro', toPlanId: 'team', kind: 'upgrade' } },
    {
      name: 'an upgrade names the pending downgrade it cancels',
      given: downgradePending,
      at: MID,
      run: changePlan('team'),
      details: { fromPlanId: 'pro', toPlanId: 'team', kind: 'upgrade', cancelledPendingPlanId: 'solo' },
    },
    {
      name: 'an immediate downgrade names the seats it frees',
      given: () => given(perpetual(), [ISSUED, activateMachine('fp-alpha')], [ISSUED, activateMachine('fp-beta')]),
      at: MID,
      run: changePlan('solo', [machineId('fp-beta')]),
      details: { fromPlanId: 'pro', toPlanId: 'solo', kind: 'downgrade', freedActivationIds: [machineId('fp-beta')] },
    },
    {
      name: 'a scheduled downgrade names its date',
      given: active,
      at: MID,
      run: changePlan('solo'),
      details: { fromPlanId: 'pro', toPlanId: 'solo', kind: 'downgrade_scheduled', effectiveAt: at(PERIOD_END) },
    },
    { name: 'cancelling a pending change names it', given: downgradePending, at: MID, run: changePlan('pro'), details: { cancelledPendingPlanId: 'solo' } },
    { name: 'expire tells whether it was a trial', given: () => issue({ trial: true }), at: AFTER_END, run: { type: 'expire' }, details: { periodEndsAt: at('2025-01-15T00:00:00.000Z'), wasTrial: true } },
  ])('$name', ({ given: before, at: iso, run, details }) => {
    const result = applyCommand(before(), run, at(iso));

    expect(result.ok && result.audit.details).toEqual(details);
  });
});

describe('version, timestamps and identity', () => {
  it('every transition moves the version on by one and stamps updatedAt; a refusal changes nothing', () => {
    const steps: readonly { at: string; command: LicenseCommand; version: number }[] = [
      { at: '2025-01-02T00:00:00.000Z', command: activateMachine('fp-alpha'), version: 2 },
      { at: '2025-01-03T00:00:00.000Z', command: activateMachine('fp-alpha'), version: 2 },
      { at: '2025-01-04T00:00:00.000Z', command: { type: 'suspend', reason: 'payment_failed' }, version: 3 },
      { at: '2025-01-05T00:00:00.000Z', command: { type: 'suspend', reason: 'payment_failed' }, version: 3 },
      { at: '2025-01-06T00:00:00.000Z', command: { type: 'renew', periodEndsAt: at(NEXT_END) }, version: 4 },
      { at: '2025-01-07T00:00:00.000Z', command: changePlan('team'), version: 5 },
      { at: '2025-01-08T00:00:00.000Z', command: { type: 'revoke', reason: 'refund' }, version: 6 },
      { at: '2025-01-09T00:00:00.000Z', command: { type: 'renew', periodEndsAt: at('2025-04-01T00:00:00.000Z') }, version: 6 },
    ];
    let license = active();
    let lastChange = ISSUED;

    for (const step of steps) {
      const result = applyCommand(license, step.command, at(step.at));
      if (result.ok) {
        license = result.license;
        lastChange = step.at;
      }
      expect(license.version).toBe(step.version);
      expect(license.updatedAt).toEqual(at(lastChange));
      expect(license.createdAt).toEqual(at(ISSUED));
    }
  });

  it('the key digest and id never change, through seats, plan changes, expiry, renewal and revocation', () => {
    const steps: readonly Step[] = [
      [ISSUED, activateMachine('fp-alpha')],
      [MID, changePlan('team')],
      [MID, changePlan('solo')],
      [PERIOD_END, { type: 'apply_pending_change' }],
      [AFTER_END, { type: 'expire' }],
      [AFTER_END, { type: 'renew', periodEndsAt: at(NEXT_END) }],
      [AFTER_END, changePlan('site')],
      [AFTER_END, { type: 'revoke', reason: 'abuse' }],
    ];
    let license = active();

    for (const [iso, command] of steps) {
      license = licenseOf(applyCommand(license, command, at(iso)));
      expect(license.keyDigest).toBe(KEY_DIGEST);
      expect(license.id).toBe(LICENSE_ID);
    }
    expect(license.version).toBe(1 + steps.length);
  });

  it('does not modify the license it is given', () => {
    const before = downgradePending();
    const snapshot = structuredClone(before);

    licenseOf(applyCommand(before, { type: 'apply_pending_change' }, at(PERIOD_END)));
    licenseOf(applyCommand(before, { type: 'deactivate', activationId: machineId('fp-alpha') }, at(MID)));
    licenseOf(applyCommand(before, { type: 'revoke', reason: 'manual' }, at(MID)));

    expect(before).toEqual(snapshot);
  });
});
