/**
 * Admin API, errors: every bad request, unknown plan or id and lifecycle refusal answers its
 * code with the mapped status, in the one error shape, and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../support/admin-server.js';

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

let api: AdminServer;
/** An active `pro` license with a period 30 days out, and a revoked one. */
let active: string;
let revoked: string;

beforeAll(async () => {
  api = await startAdminServer();
  const issued = await api.call('POST', '/v1/admin/licenses', { body: { planId: 'pro', periodEndsAt: inDays(30), count: 2 } });
  [active, revoked] = issued.body.licenses.map((license: { id: string }) => license.id);
  expect((await api.call('POST', `/v1/admin/licenses/${revoked}/revoke`, { body: { reason: 'chargeback' } })).status).toBe(200);
});
afterAll(async () => {
  await api.close();
});

/** What a failed request must leave as it was. */
async function snapshot() {
  const db = api.fixture.db;
  const versions = await db.collection('licenses').find({}, { projection: { version: 1, updatedAt: 1, status: 1 } }).sort({ _id: 1 }).toArray();
  return { licenses: versions, audit: await db.collection('license_audit').countDocuments() };
}

interface Case {
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly status: number;
  readonly code: string;
}

async function expectRefused(c: Case): Promise<void> {
  const path = c.path.replace('{active}', active).replace('{revoked}', revoked);
  const before = await snapshot();
  const answer = await api.call(c.method ?? 'POST', path, {
    ...(c.body === undefined ? {} : { body: c.body }),
    ...(c.rawBody === undefined ? {} : { rawBody: c.rawBody }),
    headers: { 'x-request-id': 'req-error' },
  });
  expect(answer.status).toBe(c.status);
  expect(answer.body).toEqual({ error: { code: c.code, message: expect.any(String), details: expect.any(Object), requestId: 'req-error' } });
  expect(await snapshot()).toEqual(before);
}

describe('issuing: bad bodies are 400 INVALID_REQUEST, bad terms 422', () => {
  it.each<Case>([
    { path: '/v1/admin/licenses', body: {}, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: 42 }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: '' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', count: 0 }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', count: 10_001 }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', count: 1.5 }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', count: '5' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', trial: 'yes' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', periodEndsAt: 'next tuesday' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', periodEnd: inDays(30) }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', body: [], status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses', rawBody: '{"planId":', status: 400, code: 'INVALID_JSON' },
    { path: '/v1/admin/licenses', body: { planId: 'gold' }, status: 422, code: 'UNKNOWN_PLAN' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', keyType: 'enterprise' }, status: 422, code: 'UNKNOWN_KEY_TYPE' },
    { path: '/v1/admin/licenses', body: { planId: 'pro', periodEndsAt: '2001-01-01T00:00:00Z' }, status: 422, code: 'INVALID_COMMAND' },
    { path: '/v1/admin/licenses', body: { planId: 'web', trial: true }, status: 422, code: 'INVALID_COMMAND' },
  ])('POST $path $body$rawBody → $status $code', expectRefused);

  it('lists each problem of a bad body', async () => {
    const answer = await api.call('POST', '/v1/admin/licenses', { body: { count: 0 } });
    expect(answer.body.error.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['count', 'planId']);
  });
});

describe('commands: bad bodies, unknown plans and lifecycle refusals', () => {
  it.each<Case>([
    { path: '/v1/admin/licenses/{active}/suspend', body: { reason: 'bored' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/suspend', body: { note: 5 }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/reinstate', body: { onlyIf: 'whenever' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/revoke', body: {}, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/revoke', body: { reason: 'refund', note: '' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/renew', body: {}, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/renew', body: { periodEndsAt: '2030-13-01T00:00:00Z' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/renew', body: { periodEndsAt: 1_900_000_000 }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/change-plan', body: {}, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/change-plan', body: { planId: 'basic', freeActivationIds: 'act_1' }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/cancel', body: { now: true }, status: 400, code: 'INVALID_REQUEST' },
    { path: '/v1/admin/licenses/{active}/change-plan', body: { planId: 'gold' }, status: 422, code: 'UNKNOWN_PLAN' },
    { path: '/v1/admin/licenses/{active}/change-plan', body: { planId: 'pro' }, status: 409, code: 'SAME_PLAN' },
    { path: '/v1/admin/licenses/{active}/renew', body: { periodEndsAt: inDays(1) }, status: 409, code: 'PERIOD_NOT_EXTENDED' },
    { path: '/v1/admin/licenses/{active}/reinstate', body: {}, status: 409, code: 'NOT_SUSPENDED' },
    { path: '/v1/admin/licenses/{active}/resume', status: 409, code: 'NOT_CANCELLED' },
  ])('POST $path $body → $status $code', expectRefused);

  it.each<Case>([
    { path: '/v1/admin/licenses/{revoked}/suspend', body: {}, status: 409, code: 'LICENSE_REVOKED' },
    { path: '/v1/admin/licenses/{revoked}/reinstate', body: {}, status: 409, code: 'LICENSE_REVOKED' },
    { path: '/v1/admin/licenses/{revoked}/renew', body: { periodEndsAt: inDays(365) }, status: 409, code: 'LICENSE_REVOKED' },
    { path: '/v1/admin/licenses/{revoked}/change-plan', body: { planId: 'open' }, status: 409, code: 'LICENSE_REVOKED' },
    { path: '/v1/admin/licenses/{revoked}/cancel', status: 409, code: 'LICENSE_REVOKED' },
    { path: '/v1/admin/licenses/{revoked}/resume', status: 409, code: 'LICENSE_REVOKED' },
    { path: '/v1/admin/licenses/{revoked}/revoke', body: { reason: 'manual' }, status: 409, code: 'ALREADY_REVOKED' },
  ])('after revoke: POST $path → $status $code', expectRefused);
});

describe('unknown licenses are 404 NOT_FOUND', () => {
  const unknown = 'lic_01jzzzzzzzzzzzzzzzzzzzzzzz';
  it.each<Case>([
    { method: 'GET', path: `/v1/admin/licenses/${unknown}`, status: 404, code: 'NOT_FOUND' },
    { method: 'GET', path: `/v1/admin/licenses/${unknown}/audit`, status: 404, code: 'NOT_FOUND' },
    { method: 'GET', path: `/v1/admin/licenses/${unknown}/usage`, status: 404, code: 'NOT_FOUND' },
    { method: 'GET', path: `/v1/admin/licenses/${'x'.repeat(500)}`, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${unknown}/suspend`, body: {}, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${unknown}/reinstate`, body: {}, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${unknown}/revoke`, body: { reason: 'manual' }, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${unknown}/renew`, body: { periodEndsAt: inDays(60) }, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${unknown}/change-plan`, body: { planId: 'open' }, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${unknown}/cancel`, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${unknown}/resume`, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${unknown}/reveal-key`, status: 404, code: 'NOT_FOUND' },
    { path: `/v1/admin/licenses/${'x'.repeat(500)}/suspend`, body: {}, status: 404, code: 'NOT_FOUND' },
  ])('$method $path → 404', expectRefused);
});

describe('bad query strings are 400 INVALID_REQUEST', () => {
  it.each<Case>([
    { method: 'GET', path: '/v1/admin/licenses?limit=0', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses?limit=501', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses?limit=ten', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses?limit=2&limit=3', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses?status=deleted', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses?plan=pro', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses?cursor=', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses/{active}/audit?limit=0', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses/{active}/audit?afterVersion=-1', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses/{active}/usage?month=2024-13', status: 400, code: 'INVALID_REQUEST' },
    { method: 'GET', path: '/v1/admin/licenses/{active}/usage?month=202401', status: 400, code: 'INVALID_REQUEST' },
  ])('$method $path → 400', expectRefused);
});
