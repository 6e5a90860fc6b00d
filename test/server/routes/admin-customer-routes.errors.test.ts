/** Customer and e-mail admin routes, bad input: a clear code for each mistake, and nothing written. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startAdminServer, type AdminServer } from '../../support/admin-server.js';

let api: AdminServer;
let license: { id: string; key: string };

beforeAll(async () => {
  api = await startAdminServer();
  license = (await api.call('POST', '/v1/admin/licenses', { body: { planId: 'pro', customerId: 'cus_ada' } })).body.licenses[0];
});
afterAll(async () => {
  await api.close();
});

async function writes() {
  return {
    licenses: await api.fixture.db.collection('licenses').countDocuments(),
    emails: await api.outbox.collection.countDocuments(),
  };
}

describe('resend-key', () => {
  it('asks for a recipient when the key was never e-mailed: 400 RECIPIENT_REQUIRED', async () => {
    const before = await writes();
    const answer = await api.call('POST', `/v1/admin/licenses/${license.id}/resend-key`, { body: {} });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'RECIPIENT_REQUIRED', requestId: expect.any(String) } } });
    expect(await writes()).toEqual(before);
  });

  it.each([
    ['an unknown license', 'lic_01jzzzzzzzzzzzzzzzzzzzzzzz', {}, 404, 'NOT_FOUND'],
    ['an absurdly long id', `lic_${'z'.repeat(500)}`, {}, 404, 'NOT_FOUND'],
    ['a malformed address', null, { to: 'not an address' }, 400, 'INVALID_REQUEST'],
    ['two addresses in one', null, { to: 'a@example.com, b@example.com' }, 400, 'INVALID_REQUEST'],
    ['an unknown field', null, { to: 'a@example.com', cc: 'b@example.com' }, 400, 'INVALID_REQUEST'],
  ])('refuses %s', async (_name, id, body, status, code) => {
    const before = await writes();
    const answer = await api.call('POST', `/v1/admin/licenses/${id ?? license.id}/resend-key`, { body });
    expect(answer).toMatchObject({ status, body: { error: { code } } });
    expect(answer.text.length).toBeLessThan(1_000);
    expect(await writes()).toEqual(before);
  });

  it('refuses to send the key of a revoked license: 409 LICENSE_REVOKED', async () => {
    const revoked = (await api.call('POST', '/v1/admin/licenses', { body: { planId: 'pro' } })).body.licenses[0];
    await api.call('POST', `/v1/admin/licenses/${revoked.id}/revoke`, { body: { reason: 'refund' } });
    const before = await writes();
    const answer = await api.call('POST', `/v1/admin/licenses/${revoked.id}/resend-key`, { body: { to: 'a@example.com' } });
    expect(answer).toMatchObject({ status: 409, body: { error: { code: 'LICENSE_REVOKED' } } });
    expect(await writes()).toEqual(before);
  });
});

describe('license creation with an email', () => {
  it.each([
    ['a malformed address', { planId: 'pro', email: 'ada-at-example.com' }, 'email'],
    ['too many licenses to e-mail', { planId: 'pro', email: 'ada@example.com', count: 101 }, 'count'],
    ['an unknown plan', { planId: 'nope', email: 'ada@example.com' }, null],
  ])('refuses %s and issues nothing', async (_name, body, path) => {
    const before = await writes();
    const answer = await api.call('POST', '/v1/admin/licenses', { body });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    if (path !== null) expect(answer.body.error).toMatchObject({ code: 'INVALID_REQUEST', details: { issues: [expect.objectContaining({ path })] } });
    expect(await writes()).toEqual(before);
  });
});

describe('listings', () => {
  it.each([
    ['/v1/admin/emails?status=bounced', 'status'],
    ['/v1/admin/emails?cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['/v1/admin/emails?limit=0', 'limit'],
    ['/v1/admin/emails?key=TO-A3F2', 'key'],
    ['/v1/admin/customers/cus_ada/licenses?limit=501', 'limit'],
    ['/v1/admin/customers/cus_ada/licenses?status=gone', 'status'],
    [`/v1/admin/customers/${'c'.repeat(200)}/licenses`, 'customerId'],
  ])('refuses %s naming %s', async (path, field) => {
    const answer = await api.call('GET', path, { token: api.readToken });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('INVALID_REQUEST');
    expect(JSON.stringify(answer.body.error.details.issues)).toContain(field);
  });
});
