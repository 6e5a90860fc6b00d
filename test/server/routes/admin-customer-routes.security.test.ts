/**
 * Customer and e-mail admin routes, security: every route needs a token, writes need the write
 * scope (a read token cannot reveal or e-mail a key), unknown licenses are 404, and no answer or
 * log line carries a key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startAdminServer, type AdminServer } from '../../support/admin-server.js';

let api: AdminServer;
let license: { id: string; key: string; emailId: string };

beforeAll(async () => {
  api = await startAdminServer();
  license = (await api.call('POST', '/v1/admin/licenses', { body: { planId: 'pro', customerId: 'cus_ada', email: 'ada@example.com' } })).body.licenses[0];
});
afterAll(async () => {
  await api.close();
});

const routes = (): Array<[string, string, unknown]> => [
  ['GET', '/v1/admin/customers/cus_ada/licenses', undefined],
  ['GET', '/v1/admin/emails', undefined],
  ['POST', `/v1/admin/licenses/${license.id}/resend-key`, { to: 'mallory@example.com' }],
  ['POST', `/v1/admin/licenses/${license.id}/reveal-key`, {}],
  ['POST', `/v1/admin/emails/${license.emailId}/retry`, {}],
];

async function emails(): Promise<number> {
  return api.outbox.collection.countDocuments();
}

describe('authentication', () => {
  it('answers 401 without a token on every route, and queues nothing', async () => {
    const before = await emails();
    for (const [method, path, body] of routes()) {
      const answer = await api.call(method, path, { token: null, body });
      expect(answer.status, path).toBe(401);
      expect(answer.body.error.code, path).toBe('UNAUTHORIZED');
      expect(answer.text, path).not.toContain(license.key);
    }
    expect(await emails()).toBe(before);
  });
});

describe('scopes', () => {
  it('lets a read token list', async () => {
    for (const [method, path] of routes().filter(([method]) => method === 'GET')) {
      expect((await api.call(method, path, { token: api.readToken })).status, path).toBe(200);
    }
  });

  it.each([['licenses', 'reveal-key'], ['licenses', 'resend-key'], ['emails', 'retry']])('refuses %s %s to a read token: 403, no key, nothing queued', async (what, action) => {
    const before = await emails();
    const answer = await api.call('POST', `/v1/admin/${what}/${what === 'emails' ? license.emailId : license.id}/${action}`, { token: api.readToken, body: {} });
    expect(answer).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', details: { requiredScope: 'write' } } } });
    expect(answer.text).not.toContain(license.key);
    expect(await emails()).toBe(before);
  });
});

describe('unknown licenses', () => {
  it.each(['reveal-key', 'resend-key'])('answers 404 to %s of a license that does not exist', async (action) => {
    const answer = await api.call('POST', `/v1/admin/licenses/lic_01jzzzzzzzzzzzzzzzzzzzzzzz/${action}`, { body: action === 'resend-key' ? { to: 'a@example.com' } : {} });
    expect(answer).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});

describe('the plain key', () => {
  it('appears in no listing, no resend answer and no log line', async () => {
    const answers = [
      await api.call('GET', '/v1/admin/customers/cus_ada/licenses', { token: api.readToken }),
      await api.call('GET', '/v1/admin/emails', { token: api.readToken }),
      await api.call('GET', `/v1/admin/emails?licenseId=${license.id}`, { token: api.readToken }),
      await api.call('POST', `/v1/admin/licenses/${license.id}/resend-key`, { body: {} }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeLessThan(300);
      expect(answer.text).not.toContain(license.key);
      expect(answer.text).not.toMatch(/keyDigest|keyCiphertext/);
    }
    expect(api.logs.join('')).not.toContain(license.key);
  });
});
