/**
 * The server as production wires it (serverWiring): the admin API and the client routes on one
 * app, one database, one cache, and the whole lifecycle driven over HTTP.
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import { serverWiring } from '../../server/main.js';
import { startTestServer } from '../support/server-fixture.js';

describe('the production wiring', () => {
  it('drives a license from creation to revocation over HTTP, clients seeing each change at once', async () => {
    const server = await startTestServer({}, serverWiring);
    const client = await new MongoClient(server.config.mongoUrl).connect();
    const { token } = await createAdminToken(new MongoAdminTokenStore({ db: client.db(server.config.mongoDb) }), { name: 'ops', scope: 'write' }, new Date());
    await client.close();
    const admin = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    const created = await admin('POST', '/v1/admin/licenses', { planId: 'pro', periodEndsAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect(created.status).toBe(201);
    const [license] = created.body['licenses'] as Array<{ id: string; key: string }>;
    if (!license) throw new Error('no license created');

    expect((await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'desk-1' })).status).toBe(200);
    expect((await server.post('/v1/licenses/validate', { key: license.key, fingerprint: 'desk-1' })).body['code']).toBe('VALID');

    expect((await admin('POST', `/v1/admin/licenses/${license.id}/suspend`, { reason: 'abuse_hold', note: 'shared on a forum' })).status).toBe(200);
    expect((await server.post('/v1/licenses/validate', { key: license.key, fingerprint: 'desk-1' })).body['code']).toBe('SUSPENDED');
    expect((await admin('POST', `/v1/admin/licenses/${license.id}/reinstate`, {})).status).toBe(200);
    expect((await server.post('/v1/licenses/validate', { key: license.key, fingerprint: 'desk-1' })).body['code']).toBe('VALID');
    expect((await admin('POST', `/v1/admin/licenses/${license.id}/revoke`, { reason: 'chargeback' })).status).toBe(200);
    expect((await server.post('/v1/licenses/validate', { key: license.key, fingerprint: 'desk-1' })).body['code']).toBe('REVOKED');

    const audit = await admin('GET', `/v1/admin/licenses/${license.id}/audit`);
    const entries = audit.body['data'] as Array<{ command: string; cause: { actor: string } }>;
    expect(entries.map((entry) => entry.command)).toEqual(['issue', 'activate', 'suspend', 'reinstate', 'revoke']);
    expect(entries[1]?.cause.actor).toBe('client');
    expect(entries[2]?.cause.actor).toMatch(/^admin:tok_/);
  });

  it('describes the admin routes in the OpenAPI document, with their path parameters', async () => {
    const server = await startTestServer({}, serverWiring);
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; security?: unknown }>> };
    const revoke = document.paths['/v1/admin/licenses/{id}/revoke']?.['post'];
    expect(revoke?.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path' })]);
    expect(revoke?.security).toEqual([{ adminToken: [] }]);
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/v1/admin')).length).toBeGreaterThanOrEqual(11);
  });

  it('refuses the admin API without a token', async () => {
    const server = await startTestServer({}, serverWiring);
    const response = await fetch(`${server.url}/v1/admin/licenses`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });
});
