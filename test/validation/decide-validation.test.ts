import { describe, expect, it } from 'vitest';

import { parseKey, type MalformedKey } from '../../lib/keys/parse-key.js';
import { activationIdFor } from '../../lib/lifecycle/binding-value.js';
import type { Activation, License } from '../../lib/lifecycle/license.js';
import type { PlanLimits } from '../../lib/plans/plan.js';
import {
  decide,
  decideValidation,
  type DecideValidationOptions,
  type ValidationRequest,
} from '../../lib/validation/decide-validation.js';
import { VALIDATION_CODES, type ValidationCode } from '../../lib/validation/validation-code.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: licenses as plain data, fixed instants.
// ---------------------------------------------------------------------------------------------

const ISSUED = '2025-01-01T00:00:00.000Z';
const NOW = '2025-01-15T12:00:00.000Z';
const PERIOD_END = '2025-02-01T00:00:00.000Z';
const HOUR = 3_600_000;

const at = (iso: string): Date => new Date(iso);

const LICENSE_ID = 'lic_0000000000vali';
const FINGERPRINT = 'fp-alpha';
const DOMAIN = 'example.com';
const MACHINE_ID = activationIdFor(LICENSE_ID, 'machine', FINGERPRINT);
const DOMAIN_ID = activationIdFor(LICENSE_ID, 'domain', DOMAIN);

const machineSeat: Activation = { id: MACHINE_ID, kind: 'machine', value: FINGERPRINT, label: null, activatedAt: at(ISSUED) };
const domainSeat: Activation = { id: DOMAIN_ID, kind: 'domain', value: DOMAIN, label: null, activatedAt: at(ISSUED) };

const MACHINE_LIMITS: PlanLimits = { maxActivations: 2, maxDomains: null, validationsPerMonth: 1000 };
const DOMAIN_LIMITS: PlanLimits = { maxActivations: null, maxDomains: 2, validationsPerMonth: 1000 };
const BOTH_LIMITS: PlanLimits = { maxActivations: 2, maxDomains: 2, validationsPerMonth: 1000 };
const NO_LIMITS: PlanLimits = { maxActivations: null, maxDomains: null, validationsPerMonth: null };

/** An active `editor` license on a machine plan, fingerprint `fp-alpha` bound, paid until PERIOD_END. */
function license(overrides: Partial<License> = {}): License {
  return {
    id: LICENSE_ID,
    keyDigest: 'f'.repeat(64),
    keyType: 'production',
    product: 'editor',
    customerId: 'cus_123',
    planId: 'pro',
    planRank: 20,
    limits: MACHINE_LIMITS,
    features: ['export'],
    status: 'active',
    suspension: null,
    revocation: null,
    trial: null,
    periodEndsAt: at(PERIOD_END),
    cancelAtPeriodEnd: false,
    pendingChange: null,
    activations: [machineSeat],
    createdAt: at(ISSUED),
    updatedAt: at(ISSUED),
    version: 2,
    ...overrides,
  };
}

const machineLicense = (overrides: Partial<License> = {}): License => license(overrides);
const siteLicense = (overrides: Partial<License> = {}): License =>
  license({ planId: 'site', limits: DOMAIN_LIMITS, activations: [domainSeat], ...overrides });
const boundToBoth = (overrides: Partial<License> = {}): License =>
  license({ planId: 'studio', limits: BOTH_LIMITS, activations: [machineSeat, domainSeat], ...overrides });
const unbound = (overrides: Partial<License> = {}): License =>
  license({ planId: 'basic', limits: NO_LIMITS, activations: [], ...overrides });

const revoked = { status: 'revoked', revocation: { reason: 'chargeback', at: at(ISSUED), note: null } } as const;
const suspended = { status: 'suspended', suspension: { reason: 'abuse_hold', at: at(ISSUED), note: null } } as const;
const expired = { status: 'expired' } as const;
const periodEnded = { periodEndsAt: at('2025-01-10T00:00:00.000Z') };

function malformedKey(input: string): MalformedKey {
  const parsed = parseKey(input);
  if (parsed.ok) throw new Error(`expected ${input} to be malformed`);
  return parsed.error;
}
const BAD_KEY = malformedKey('TO-!!!!');

/** A correct request for each kind of license. */
const machineRequest: ValidationRequest = { product: 'editor', fingerprint: FINGERPRINT, validationsThisMonth: 10 };
const siteRequest: ValidationRequest = { product: 'editor', domain: DOMAIN, validationsThisMonth: 10 };
const bothRequest: ValidationRequest = { product: 'editor', fingerprint: FINGERPRINT, domain: DOMAIN, validationsThisMonth: 10 };

/** Codes whose answer tells nothing about the license. */
const NO_SUMMARY: ReadonlySet<ValidationCode> = new Set(['MALFORMED_KEY', 'NOT_FOUND', 'PRODUCT_MISMATCH']);

interface Row {
  readonly name: string;
  readonly license: License | null;
  readonly request: ValidationRequest;
  readonly now?: string;
  readonly options?: DecideValidationOptions;
  readonly code: ValidationCode;
}

// Ordered by the precedence of lib/validation/decide-validation.ts: each group shows its code
// winning over the codes below it.
const decisions: readonly Row[] = [
  // 1. MALFORMED_KEY
  { name: 'a key that does not parse', license: null, request: { malformed: BAD_KEY }, code: 'MALFORMED_KEY' },
  { name: 'a malformed key, whatever license is passed', license: machineLicense(revoked), request: { malformed: BAD_KEY, product: 'other' }, code: 'MALFORMED_KEY' },
  // 2. NOT_FOUND
  { name: 'no license has the key', license: null, request: machineRequest, code: 'NOT_FOUND' },
  { name: 'no license and no claims', license: null, request: {}, code: 'NOT_FOUND' },
  // 3. REVOKED
  { name: 'revoked', license: machineLicense(revoked), request: machineRequest, code: 'REVOKED' },
  { name: 'revoked + wrong product', license: machineLicense(revoked), request: { ...machineRequest, product: 'other' }, code: 'REVOKED' },
  { name: 'revoked + period ended + not activated', license: machineLicense({ ...revoked, ...periodEnded }), request: { product: 'editor' }, code: 'REVOKED' },
  // 4. PRODUCT_MISMATCH
  { name: 'wrong product', license: machineLicense(), request: { ...machineRequest, product: 'other' }, code: 'PRODUCT_MISMATCH' },
  { name: 'suspended + wrong product', license: machineLicense(suspended), request: { ...machineRequest, product: 'other' }, code: 'PRODUCT_MISMATCH' },
  { name: 'expired + wrong product', license: machineLicense(expired), request: { ...machineRequest, product: 'other' }, code: 'PRODUCT_MISMATCH' },
  { name: 'product names are case-sensitive', license: machineLicense(), request: { ...machineRequest, product: 'Editor' }, code: 'PRODUCT_MISMATCH' },
  // 5. SUSPENDED
  { name: 'suspended', license: machineLicense(suspended), request: machineRequest, code: 'SUSPENDED' },
  { name: 'suspended + period ended', license: machineLicense({ ...suspended, ...periodEnded }), request: machineRequest, code: 'SUSPENDED' },
  { name: 'suspended + not activated', license: machineLicense(suspended), request: { product: 'editor', fingerprint: 'fp-other' }, code: 'SUSPENDED' },
  { name: 'suspended + domain not allowed', license: siteLicense(suspended), request: { product: 'editor', domain: 'other.example' }, code: 'SUSPENDED' },
  // Since `expire` keeps the suspension record (so that a renewal cannot launder a hold), a
  // license can be expired while held; the hold must not hide behind the expiry.
  {
    name: 'expired while on an abuse hold',
    license: machineLicense({ ...expired, suspension: suspended.suspension, ...periodEnded }),
    request: machineRequest,
    code: 'SUSPENDED',
  },
  // 6. EXPIRED
  { name: 'status expired', license: machineLicense(expired), request: machineRequest, code: 'EXPIRED' },
  { name: 'period ended, not yet marked expired', license: machineLicense(periodEnded), request: machineRequest, code: 'EXPIRED' },
  { name: 'exactly at the period end', license: machineLicense(), request: machineRequest, now: PERIOD_END, code: 'EXPIRED' },
  { name: 'expired + not activated', license: machineLicense(expired), request: { product: 'editor' }, code: 'EXPIRED' },
  { name: 'expired + domain not allowed', license: siteLicense(periodEnded), request: { product: 'editor', domain: 'other.example' }, code: 'EXPIRED' },
  { name: 'expired + quota used up', license: machineLicense(expired), request: { ...machineRequest, validationsThisMonth: 5000 }, code: 'EXPIRED' },
  { name: 'a trial past its end', license: machineLicense({ trial: { endsAt: at('2025-01-08T00:00:00.000Z') }, periodEndsAt: at('2025-01-08T00:00:00.000Z') }), request: machineRequest, code: 'EXPIRED' },
  { name: 'at the end of the grace period', license: machineLicense(), request: machineRequest, now: '2025-02-01T01:00:00.000Z', options: { expiryGraceMs: HOUR }, code: 'EXPIRED' },
  { name: 'status expired, within the grace period', license: machineLicense(expired), request: machineRequest, now: '2025-02-01T00:30:00.000Z', options: { expiryGraceMs: HOUR }, code: 'EXPIRED' },
  { name: 'after the period end, without grace', license: machineLicense(), request: machineRequest, now: '2025-02-01T00:30:00.000Z', code: 'EXPIRED' },
  // 7. DOMAIN_NOT_ALLOWED
  { name: 'no domain claimed', license: siteLicense(), request: { product: 'editor' }, code: 'DOMAIN_NOT_ALLOWED' },
  { name: 'an unlicensed domain', license: siteLicense(), request: { product: 'editor', domain: 'example.org' }, code: 'DOMAIN_NOT_ALLOWED' },
  { name: 'a subdomain of the licensed domain', license: siteLicense(), request: { product: 'editor', domain: 'shop.example.com' }, code: 'DOMAIN_NOT_ALLOWED' },
  { name: 'a claimed domain that is no host name', license: siteLicense(), request: { product: 'editor', domain: 'not a host' }, code: 'DOMAIN_NOT_ALLOWED' },
  { name: 'a fingerprint equal to the licensed domain', license: siteLicense(), request: { product: 'editor', fingerprint: DOMAIN }, code: 'DOMAIN_NOT_ALLOWED' },
  { name: 'domain + fingerprint both wrong', license: boundToBoth(), request: { product: 'editor', domain: 'example.org', fingerprint: 'fp-other' }, code: 'DOMAIN_NOT_ALLOWED' },
  { name: 'domain wrong + quota used up', license: siteLicense(), request: { ...siteRequest, domain: 'example.org', validationsThisMonth: 1000 }, code: 'DOMAIN_NOT_ALLOWED' },
  // 8. NOT_ACTIVATED
  { name: 'no fingerprint sent', license: machineLicense(), request: { product: 'editor' }, code: 'NOT_ACTIVATED' },
  { name: 'an unknown fingerprint', license: machineLicense(), request: { ...machineRequest, fingerprint: 'fp-other' }, code: 'NOT_ACTIVATED' },
  { name: 'a blank fingerprint', license: machineLicense(), request: { ...machineRequest, fingerprint: '   ' }, code: 'NOT_ACTIVATED' },
  { name: 'fingerprints are case-sensitive', license: machineLicense(), request: { ...machineRequest, fingerprint: 'FP-ALPHA' }, code: 'NOT_ACTIVATED' },
  { name: 'a domain equal to the bound fingerprint', license: machineLicense({ activations: [{ ...machineSeat, value: DOMAIN }] }), request: { product: 'editor', domain: DOMAIN }, code: 'NOT_ACTIVATED' },
  { name: 'right domain, wrong fingerprint', license: boundToBoth(), request: { ...bothRequest, fingerprint: 'fp-other' }, code: 'NOT_ACTIVATED' },
  { name: 'not activated + quota used up', license: machineLicense(), request: { product: 'editor', validationsThisMonth: 1000 }, code: 'NOT_ACTIVATED' },
  // 9. QUOTA_EXCEEDED
  { name: 'the quota is used up exactly', license: machineLicense(), request: { ...machineRequest, validationsThisMonth: 1000 }, code: 'QUOTA_EXCEEDED' },
  { name: 'the quota is overrun', license: machineLicense(), request: { ...machineRequest, validationsThisMonth: 1001 }, code: 'QUOTA_EXCEEDED' },
  { name: 'the quota is used up on a site license', license: siteLicense(), request: { ...siteRequest, validationsThisMonth: 1000 }, code: 'QUOTA_EXCEEDED' },
  // 10. VALID
  { name: 'one validation left in the quota', license: machineLicense(), request: { ...machineRequest, validationsThisMonth: 999 }, code: 'VALID' },
  { name: 'usage not counted: quota not checked', license: machineLicense(), request: { product: 'editor', fingerprint: FINGERPRINT }, code: 'VALID' },
  { name: 'a plan without quota', license: unbound(), request: { product: 'editor', validationsThisMonth: 1_000_000 }, code: 'VALID' },
  { name: 'no product claimed: product not checked', license: machineLicense(), request: { fingerprint: FINGERPRINT }, code: 'VALID' },
  { name: 'a fingerprint with surrounding spaces', license: machineLicense(), request: { ...machineRequest, fingerprint: `  ${FINGERPRINT}\n` }, code: 'VALID' },
  { name: 'a domain as a URL with www., port and path', license: siteLicense(), request: { ...siteRequest, domain: 'https://WWW.Example.COM:8443/app?x=1' }, code: 'VALID' },
  { name: 'a domain with a trailing dot', license: siteLicense(), request: { ...siteRequest, domain: 'example.com.' }, code: 'VALID' },
  { name: 'machine and domain both right', license: boundToBoth(), request: bothRequest, code: 'VALID' },
  { name: 'a license that binds nothing, with no claims', license: unbound(), request: {}, code: 'VALID' },
  { name: 'unneeded claims on a license that binds nothing', license: unbound(), request: { fingerprint: 'anything', domain: 'anywhere.example' }, code: 'VALID' },
  { name: 'a perpetual license years later', license: machineLicense({ periodEndsAt: null }), request: machineRequest, now: '2035-06-01T00:00:00.000Z', code: 'VALID' },
  { name: 'just before the period end', license: machineLicense(), request: machineRequest, now: '2025-01-31T23:59:59.999Z', code: 'VALID' },
  { name: 'within the grace period', license: machineLicense(), request: machineRequest, now: '2025-02-01T00:59:59.999Z', options: { expiryGraceMs: HOUR }, code: 'VALID' },
  { name: 'a cancelled license before its period end', license: machineLicense({ cancelAtPeriodEnd: true }), request: machineRequest, code: 'VALID' },
  { name: 'a trial before its end', license: machineLicense({ trial: { endsAt: at(PERIOD_END) } }), request: machineRequest, code: 'VALID' },
];

describe('decideValidation', () => {
  it.each(decisions)('$name → $code', ({ license: found, request, now, options, code }) => {
    const decision = decideValidation(found, request, at(now ?? NOW), options);

    expect(decision.code).toBe(code);
    expect(decision.valid).toBe(code === 'VALID');
    expect(decision.message).toEqual(expect.any(String));
    expect(decision.license !== undefined, 'carries a license summary').toBe(!NO_SUMMARY.has(code));
  });

  it('covers every validation code', () => {
    expect(new Set(decisions.map((row) => row.code))).toEqual(new Set(VALIDATION_CODES));
  });

  it('answers VALID with the license summary and the matched activation', () => {
    const decision = decideValidation(machineLicense({ trial: { endsAt: at(PERIOD_END) } }), machineRequest, at(NOW));

    expect(decision).toEqual({
      valid: true,
      code: 'VALID',
      message: expect.any(String),
      license: {
        id: LICENSE_ID,
        product: 'editor',
        status: 'active',
        planId: 'pro',
        limits: MACHINE_LIMITS,
        features: ['export'],
        expiresAt: at(PERIOD_END),
        trialEndsAt: at(PERIOD_END),
      },
      activationId: MACHINE_ID,
    });
  });

  it.each<{ name: string; license: License; request: ValidationRequest; activationId: string | undefined }>([
    { name: 'a machine license names the machine seat', license: machineLicense(), request: machineRequest, activationId: MACHINE_ID },
    { name: 'a site license names the domain seat', license: siteLicense(), request: siteRequest, activationId: DOMAIN_ID },
    { name: 'a license that binds nothing names no seat', license: unbound(), request: {}, activationId: undefined },
  ])('$name', ({ license: found, request, activationId }) => {
    const decision = decideValidation(found, request, at(NOW));

    expect(decision.code).toBe('VALID');
    expect(decision.activationId).toBe(activationId);
  });

  it('answers a perpetual, non-trial license with no expiry and no trial end', () => {
    const decision = decideValidation(unbound({ periodEndsAt: null }), {}, at(NOW));

    expect(decision.license).toMatchObject({ expiresAt: null, trialEndsAt: null });
  });

  it('answers QUOTA_EXCEEDED with the summary and the matched activation', () => {
    const decision = decideValidation(machineLicense(), { ...machineRequest, validationsThisMonth: 1000 }, at(NOW));

    expect(decision).toMatchObject({ valid: false, code: 'QUOTA_EXCEEDED', license: { id: LICENSE_ID }, activationId: MACHINE_ID });
  });

  it.each<{ name: string; license: License; code: ValidationCode; status: License['status'] }>([
    { name: 'REVOKED', license: machineLicense(revoked), code: 'REVOKED', status: 'revoked' },
    { name: 'SUSPENDED', license: machineLicense(suspended), code: 'SUSPENDED', status: 'suspended' },
    { name: 'EXPIRED', license: machineLicense(expired), code: 'EXPIRED', status: 'expired' },
  ])('answers $name with the license status and no activation', ({ license: found, code, status }) => {
    const decision = decideValidation(found, machineRequest, at(NOW));

    expect(decision).toMatchObject({ valid: false, code, license: { id: LICENSE_ID, status } });
    expect(decision).not.toHaveProperty('activationId');
  });

  it.each<{ name: string; license: License | null; request: ValidationRequest }>([
    { name: 'MALFORMED_KEY', license: machineLicense(), request: { malformed: BAD_KEY } },
    { name: 'NOT_FOUND', license: null, request: machineRequest },
    { name: 'PRODUCT_MISMATCH', license: machineLicense(), request: { ...machineRequest, product: 'other' } },
  ])('answers $name with nothing about any license', ({ license: found, request }) => {
    const decision = decideValidation(found, request, at(NOW));

    expect(Object.keys(decision).sort()).toEqual(['code', 'message', 'valid']);
  });

  it("passes the parser's sentence through for a malformed key", () => {
    const decision = decideValidation(null, { malformed: BAD_KEY }, at(NOW));

    expect(decision.message).toBe(BAD_KEY.message);
  });

  it('does not modify the license it is given', () => {
    const found = boundToBoth();
    const snapshot = structuredClone(found);

    decideValidation(found, bothRequest, at(NOW));

    expect(found).toEqual(snapshot);
  });
});

describe('decide', () => {
  it('is the same function as decideValidation', () => {
    expect(decide).toBe(decideValidation);
  });
});
