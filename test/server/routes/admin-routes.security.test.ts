/**
 * Admin API, security: every route needs a valid token of the right scope; failures tell an
 * attacker nothing; the plain key appears only when issued or revealed; tokens never echo.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminToken } from '../../../server/auth/admin-auth.js';
import { startAdminServer, type AdminServer } from '../../support/admin-server.js';

const DAY_MS = 86_400_000;

let api: AdminServer;
let license: { id: string; key: string };
let revokedToken: string;
let expiredToken: string;

beforeAll(async () => {
  api = await startAdminServer();
  const issued = await api.call('POST', '/v1/admin/licenses', { body: { planId: 'pro', periodEndsAt: new Date(Date.now() + 30 * DAY_MS).toISOString() } });
  license = issued.body.licenses[0];
  const now = new Date();
  const revoked = await createAdminToken(api.tokenStore, { name: 'revoked', scope: 'write' }, now);
  await api.tokenStore.revoke(revoked.record.id, now);
  revokedToken = revoked.token;
  expiredToken = (await createAdminToken(api.tokenStore, { name: 'expired', scope: 'write', expiresAt: new Date(now.getTime() - 1_000) }, new Date(now.getTime() - DAY_MS))).token;
});
afterAll(async () => {
  await api.close();
});

async function writes() {
  const db = api.fixture.db;
  return {
    licenses: await db.collection('licenses').find({}, { projection: { version: 1 } }).toArray(),
    audit: await db.collection('license_audit').countDocuments(),
  };
}

const secret = () => randomBytes(32).toString('base64url');
const writeId = () => api.writeTokenId;

describe('authentication', () => {
  const cases: Array<[string, () => Record<string, string>, number, string]> = [
    ['no Authorization header', () => ({}), 401, 'UNAUTHORIZED'],
    ['an empty bearer', () => ({ authorization: 'Bearer ' }), 401, 'UNAUTHORIZED'],
    ['a garbled token', () => ({ authorization: 'Bearer not-a-token' }), 401, 'UNAUTHORIZED'],
    ['another scheme', () => ({ authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }), 401, 'UNAUTHORIZED'],
    ['a token with a truncated secret', () => ({ authorization: `Bearer ${api.writeToken.slice(0, -1)}` }), 401, 'UNAUTHORIZED'],
    ['a token with trailing junk', () => ({ authorization: `Bearer ${api.writeToken}x` }), 401, 'UNAUTHORIZED'],
    ['an oversized header', () => ({ authorization: `Bearer ${'k'.repeat(10_000)}` }), 401, 'UNAUTHORIZED'],
    ['an unknown token id', () => ({ authorization: `Bearer kwa_tok_01jzzzzzzzzzzzzzzzzzzzzzzz_${secret()}` }), 401, 'UNAUTHORIZED'],
    ['a known id with a wrong secret', () => ({ authorization: `Bearer kwa_${writeId()}_${secret()}` }), 401, 'UNAUTHORIZED'],
    ['a revoked token', () => ({ authorization: `Bearer ${revokedToken}` }), 401, 'UNAUTHORIZED'],
    ['an expired token', () => ({ authorization: `Bearer ${expiredToken}` }), 401, 'TOKEN_EXPIRED'],
  ];

  it.each(cases)('refuses %s on reads and writes, and writes nothing', async (_name, headers, status, code) => {
    const before = await writes();
    const read = await api.call('GET', `/v1/admin/licenses/${license.id}`, { token: null, headers: headers() });
    const write = await api.call('POST', `/v1/admin/licenses/${license.id}/revoke`, { token: null, headers: headers(), body: { reason: 'manual' } });
    const issue = await api.call('POST', '/v1/admin/licenses', { token: null, headers: headers(), body: { planId: 'pro' } });
    for (const answer of [read, write, issue]) {
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="keyward-admin"/);
    }
    expect(await writes()).toEqual(before);
  });

  it('gives the same answer for every kind of bad token, so it tells nothing about ids or revocations', async () => {
    const messages = new Set<string>();
    for (const [, headers, , code] of cases) {
      if (code !== 'UNAUTHORIZED') continue;
      const answer = await api.call('GET', '/v1/admin/licenses', { token: null, headers: headers() });
      messages.add(JSON.stringify({ ...answer.body.error, requestId: null }));
    }
    expect(messages.size).toBe(1);
  });

  it('checks the token before the body, so an unauthenticated caller learns nothing about the schema or the ids', async () => {
    expect((await api.call('POST', '/v1/admin/licenses', { token: null, body: { planId: 42 } })).status).toBe(401);
    // JSON syntax is checked by the app's body parser before any route, for every route alike:
    // that 400 says nothing about the admin API.
    expect((await api.call('GET', '/v1/admin/licenses/lic_01jzzzzzzzzzzzzzzzzzzzzzzz', { token: null })).status).toBe(401);
  });

  it('accepts the bearer scheme in any case', async () => {
    const answer = await api.call('GET', `/v1/admin/licenses/${license.id}`, { token: null, headers: { authorization: `bearer ${api.readToken}` } });
    expect(answer.status).toBe(200);
  });

  it('never echoes a token in an answer or the log', async () => {
    const wrong = `kwa_${writeId()}_${secret()}`;
    const sent = [wrong, expiredToken, api.readToken];
    const answers = [
      await api.call('GET', '/v1/admin/licenses', { token: wrong }),
      await api.call('GET', '/v1/admin/licenses', { token: expiredToken }),
      await api.call('POST', '/v1/admin/licenses', { token: api.readToken, body: { planId: 'pro' } }),
    ];
    const secrets = sent.map((token) => token.slice(-43));
    for (const answer of answers) {
      for (const value of secrets) expect(answer.text).not.toContain(value);
    }
    for (const value of [...secrets, api.writeToken.slice(-43)]) expect(api.logs.join('\n')).not.toContain(value);
  });
});

describe('scopes', () => {
  it.each([
    ['/v1/admin/licenses', { planId: 'pro' }],
    ['/v1/admin/licenses/{id}/suspend', {}],
    ['/v1/admin/licenses/{id}/reinstate', {}],
    ['/v1/admin/licenses/{id}/revoke', { reason: 'manual' }],
    ['/v1/admin/licenses/{id}/renew', { periodEndsAt: new Date(Date.now() + 90 * DAY_MS).toISOString() }],
    ['/v1/admin/licenses/{id}/change-plan', { planId: 'open' }],
    ['/v1/admin/licenses/{id}/cancel', {}],
    ['/v1/admin/licenses/{id}/resume', {}],
    ['/v1/admin/licenses/{id}/reveal-key', {}],
  ])('a read token gets 403 FORBIDDEN on POST %s, and nothing is written', async (path, body) => {
    const before = await writes();
    const answer = await api.call('POST', path.replace('{id}', license.id), { token: api.readToken, body });
    expect(answer).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', details: { requiredScope: 'write' } } } });
    expect(answer.text).not.toContain(license.key);
    expect(await writes()).toEqual(before);
  });

  it('lets a write token read', async () => {
    expect((await api.call('GET', `/v1/admin/licenses/${license.id}`, { token: api.writeToken })).status).toBe(200);
  });
});

describe('the plain key', () => {
  it('never appears in a read, nor do its digest and ciphertext', async () => {
    const stored = await api.fixture.db.collection('licenses').findOne({ _id: license.id as never });
    const secrets = [license.key, String(stored?.['keyDigest']), String(stored?.['keyCiphertext'])];
    const reads = [
      await api.call('GET', `/v1/admin/licenses/${license.id}`, { token: api.readToken }),
      await api.call('GET', '/v1/admin/licenses', { token: api.readToken }),
      await api.call('GET', `/v1/admin/licenses/${license.id}/audit`, { token: api.readToken }),
      await api.call('GET', `/v1/admin/licenses/${license.id}/usage`, { token: api.readToken }),
      await api.call('POST', `/v1/admin/licenses/${license.id}/cancel`),
    ];
    for (const answer of reads) {
      expect(answer.status).toBe(200);
      for (const value of secrets) expect(answer.text).not.toContain(value);
      expect(answer.text).not.toMatch(/keyDigest|keyCiphertext/);
    }
  });
});
