/**
 * UNKNOWN_PLAN tells the caller which plans exist, from the service (license creation), the
 * admin API (change-plan) and the CLI alike.
 */
import { describe, expect, it } from 'vitest';

import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { describeUnknownPlan } from '../../lib/plans/unknown-plan.js';
import { serverWiring } from '../../server/main.js';
import { TEST_PLANS } from '../support/keyward-fixture.js';
import { startTestServer } from '../support/server-fixture.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { MongoClient } from 'mongodb';

describe('describeUnknownPlan', () => {
  it('lists the plan ids in catalogue order', () => {
    const catalogue = loadPlanCatalogue(TEST_PLANS);
    const ids = catalogue.plans.map((plan) => plan.id);
    expect(describeUnknownPlan('gold', catalogue)).toEqual({
      message: `No plan "gold" in the catalogue; the plans are: ${ids.join(', ')}.`,
      details: { planId: 'gold', plans: ids },
    });
  });

  it('says so when the catalogue is empty', () => {
    expect(describeUnknownPlan('gold', { plans: [] }).message).toBe('No plan "gold" in the catalogue; the catalogue is empty.');
  });
});

describe('UNKNOWN_PLAN over HTTP', () => {
  it('answers license creation and change-plan with the plans that exist', async () => {
    const server = await startTestServer({}, serverWiring);
    const client = await new MongoClient(server.config.mongoUrl).connect();
    const { token } = await createAdminToken(new MongoAdminTokenStore({ db: client.db(server.config.mongoDb) }), { name: 'ops', scope: 'write' }, new Date());
    await client.close();
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { error: { code: string; message: string; details: { plans: string[] } } } };
    };
    const ids = server.config.plans.plans.map((plan) => plan.id);
    const created = await post('/v1/admin/licenses', { planId: 'gold' });
    expect(created.status).toBe(422);
    expect(created.body.error).toMatchObject({ code: 'UNKNOWN_PLAN', details: { planId: 'gold', plans: ids } });
    expect(created.body.error.message).toContain(ids.join(', '));

    const issued = await post('/v1/admin/licenses', { planId: ids[0] });
    const [license] = (issued.body as unknown as { licenses: Array<{ id: string }> }).licenses;
    const changed = await post(`/v1/admin/licenses/${license?.id ?? ''}/change-plan`, { planId: 'gold' });
    expect(changed.body.error).toMatchObject({ code: 'UNKNOWN_PLAN', details: { plans: ids } });
  });
});
