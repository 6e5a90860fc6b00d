import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { DEFAULT_DETECTION_THRESHOLDS } from '../../lib/abuse/detection-thresholds.js';
import { LicenseFactsCache, type LicenseLookup } from '../../lib/service/license-facts.js';
import { startKeyward, TEST_PLANS, type KeywardFixture } from '../support/keyward-fixture.js';

const PLANS = { plans: [...TEST_PLANS.plans, { id: 'big', rank: 9, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: null }, abuseThresholds: { countriesPerDay: 60 } }] };

let fixture: KeywardFixture;
beforeEach(async () => {
  fixture = await startKeyward({ plans: PLANS });
});
afterEach(async () => {
  await fixture.close();
});

async function issue(planId: string, trial = false): Promise<string> {
  const result = await fixture.keyward.licenses.issue({ planId, trial, customerId: 'cus_1', periodEndsAt: new Date('2027-01-01T00:00:00Z') });
  if (!result.ok) throw new Error(result.refusal.code);
  return result.value.record.license.id;
}

describe('LicenseFactsCache', () => {
  it('derives thresholds from the plan, licensed domains from activations, and the trial start', async () => {
    const big = await issue('big');
    const web = await issue('web');
    const trial = await issue('pro', true);
    const activated = await fixture.keyward.licenses.apply(web, { type: 'activate', kind: 'domain', value: 'www.Example.com' });
    expect(activated.ok).toBe(true);
    const cache = new LicenseFactsCache({ licenses: fixture.keyward.licenses, plans: fixture.keyward.plans });
    const facts = await cache.getMany([big, web, trial, 'lic_missing']);

    expect(facts.get(big)).toMatchObject({ thresholds: { ...DEFAULT_DETECTION_THRESHOLDS, countriesPerDay: 60 }, licensedDomains: null, trialStartedAt: null });
    expect(facts.get(web)).toMatchObject({ licensedDomains: ['example.com'], customerId: 'cus_1' });
    expect(facts.get(trial)?.trialStartedAt).toBeInstanceOf(Date);
    expect(facts.get('lic_missing')).toBeNull();
  });

  it('reads the misses of a batch in one query, and nothing for licenses it holds', async () => {
    const ids = [await issue('pro'), await issue('pro'), await issue('pro')];
    const reads: string[][] = [];
    const service = fixture.keyward.licenses;
    const counting: LicenseLookup = {
      get: (id) => service.get(id),
      getMany: async (licenseIds) => {
        reads.push([...licenseIds]);
        return service.getMany(licenseIds);
      },
    };
    const cache = new LicenseFactsCache({ licenses: counting, plans: fixture.keyward.plans });
    await cache.getMany([ids[0]!, ids[1]!, ids[0]!]);
    await cache.getMany(ids);
    expect(reads).toEqual([[ids[0], ids[1]], [ids[2]]]);
  });
});
