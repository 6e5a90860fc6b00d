/**
 * Webhook endpoints in the console, against the real server (production wiring) and MongoDB: an
 * endpoint added through the admin API and disabled for failing (as the worker's store call does)
 * is listed with why and since when, disabled ones first; a write token enables it with the
 * page's form and the API then shows it enabled; read tokens, forms without the CSRF token and
 * unknown endpoints are refused (split by intent: happy, errors, security).
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { createKeyCipher } from '../../../lib/keys/key-cipher.js';
import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { MongoWebhookEndpointStore } from '../../../lib/store/mongo-webhook-endpoint-store.js';
import { createAdminToken } from '../../../server/auth/admin-auth.js';
import { serverWiring } from '../../../server/main.js';
import { callAdminApi } from '../../support/admin-server.js';
import { consoleClient, csrfOf } from '../../support/console-client.js';
import { startTestServer } from '../../support/server-fixture.js';

/** Loopback over http allowed, as in the admin webhook tests, so no receiver is needed. */
const DEV_POLICY = { allowLoopback: true, allowPrivate: false };
const FAILING_SINCE = new Date('2026-03-01T08:00:00Z');
const DISABLED_AT = new Date('2026-03-04T08:30:00Z');

/** A server with a healthy endpoint and one disabled for failing, and admin tokens of each scope. */
async function withEndpoints() {
  const server = await startTestServer({ webhookPolicy: DEV_POLICY }, serverWiring);
  const mongo = await new MongoClient(server.config.mongoUrl).connect();
  onTestFinished(() => mongo.close());
  const db = mongo.db(server.config.mongoDb);
  const tokens = new MongoAdminTokenStore({ db });
  const write = await createAdminToken(tokens, { name: 'ops', scope: 'write' }, new Date());
  const read = await createAdminToken(tokens, { name: 'viewer', scope: 'read' }, new Date());
  const call = (method: string, path: string, body?: unknown) => callAdminApi(server.url, write.token, method, path, body === undefined ? {} : { body });

  const healthy = await call('POST', '/v1/admin/webhooks', { url: 'http://127.0.0.1:9/healthy', description: 'Data warehouse' });
  const failing = await call('POST', '/v1/admin/webhooks', { url: 'http://127.0.0.1:9/crm', description: 'CRM <sync>', eventTypes: ['license.created', 'license.revoked'] });
  expect([healthy.status, failing.status]).toEqual([201, 201]);
  const healthyId = healthy.body.endpoint.id as string;
  const failingId = failing.body.endpoint.id as string;
  // What the worker does when deliveries keep failing: the same store calls.
  const endpoints = new MongoWebhookEndpointStore({ db, cipher: createKeyCipher(server.config.secrets.encryption) });
  await endpoints.recordFailure(failingId, FAILING_SINCE);
  expect(await endpoints.disableIfFailing(failingId, DISABLED_AT, DISABLED_AT)).toBe(true);
  return { server, call, writeToken: write.token, readToken: read.token, healthyId, failingId };
}

describe('happy path', () => {
  it('lists endpoints with events, status and deliveries, the one disabled for failing first, with why and since when', async () => {
    const { server, writeToken, healthyId, failingId } = await withEndpoints();
    const client = consoleClient(server.url);
    await client.signIn(writeToken);
    const page = await client.get('/console/webhooks');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<a href="/console/webhooks">Webhooks</a>');
    expect(page.text.indexOf(failingId)).toBeLessThan(page.text.indexOf(healthyId));
    const failingRow = page.text.slice(page.text.indexOf('http://127.0.0.1:9/crm'), page.text.indexOf('http://127.0.0.1:9/healthy'));
    expect(failingRow).toContain('CRM &lt;sync&gt;');
    expect(failingRow).toContain('<code>license.created</code> <code>license.revoked</code>');
    expect(failingRow).toContain('Disabled for failing since <time datetime="2026-03-04T08:30:00.000Z"');
    expect(failingRow).toContain('4 Mar 2026, 08:30 UTC');
    expect(failingRow).toContain('Failing since <time datetime="2026-03-01T08:00:00.000Z"');
    expect(failingRow).toContain('0 pending<br>0 succeeded<br>0 failed');
    expect(failingRow).toContain(`action="/console/webhooks/${failingId}/enable"`);
    expect(page.text).toContain(`action="/console/webhooks/${healthyId}/disable"`);
    expect(page.text).toMatch(/<td data-label="Events">all<\/td>/);

    const disabledOnly = await client.get('/console/webhooks?enabled=false');
    expect(disabledOnly.text).toContain(failingId);
    expect(disabledOnly.text).not.toContain(healthyId);
  });

  it('enables an endpoint through the form with the CSRF token, clearing its failing state as the API does', async () => {
    const { server, call, writeToken, failingId } = await withEndpoints();
    const client = consoleClient(server.url);
    await client.signIn(writeToken);
    const page = await client.get('/console/webhooks');
    const enabled = await client.post(`/console/webhooks/${failingId}/enable`, { csrf: csrfOf(page.text) }, { origin: server.url });
    expect(enabled.status).toBe(303);
    expect(enabled.headers.get('location')).toBe(`/console/webhooks?done=enabled&endpoint=${failingId}`);
    expect((await call('GET', `/v1/admin/webhooks/${failingId}`)).body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
    const after = await client.get(enabled.headers.get('location') ?? '');
    expect(after.text).toContain(`Endpoint <code>${failingId}</code> enabled`);

    const disabled = await client.post(`/console/webhooks/${failingId}/disable`, { csrf: csrfOf(page.text) });
    expect(disabled.status).toBe(303);
    expect((await call('GET', `/v1/admin/webhooks/${failingId}`)).body).toMatchObject({ enabled: false, disabledReason: 'manual' });
    expect((await client.get('/console/webhooks')).text).toContain('Disabled by an operator since');
  });
});

describe('errors', () => {
  it('answers an unknown endpoint with a 404 console page', async () => {
    const { server, writeToken } = await withEndpoints();
    const client = consoleClient(server.url);
    await client.signIn(writeToken);
    const csrf = csrfOf((await client.get('/console/webhooks')).text);
    const missing = await client.post('/console/webhooks/whe_nope/enable', { csrf });
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('No such webhook endpoint');
    expect((await client.post(`/console/webhooks/${'x'.repeat(300)}/disable`, { csrf })).status).toBe(404);
  });
});

describe('security', () => {
  it('lets a read token see the endpoints but not change them: no buttons, and a posted form is refused', async () => {
    const { server, call, readToken, failingId } = await withEndpoints();
    const client = consoleClient(server.url);
    await client.signIn(readToken);
    const page = await client.get('/console/webhooks');
    expect(page.status).toBe(200);
    expect(page.text).toContain(failingId);
    expect(page.text).not.toContain('/enable"');
    const refused = await client.post(`/console/webhooks/${failingId}/enable`, { csrf: csrfOf(page.text) });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Read-only token');
    expect((await call('GET', `/v1/admin/webhooks/${failingId}`)).body).toMatchObject({ enabled: false, disabledReason: 'failing' });
  });

  it('refuses a form without the session CSRF token, with a wrong one, or from another origin', async () => {
    const { server, call, writeToken, healthyId } = await withEndpoints();
    const client = consoleClient(server.url);
    await client.signIn(writeToken);
    const csrf = csrfOf((await client.get('/console/webhooks')).text);
    expect((await client.post(`/console/webhooks/${healthyId}/disable`, {})).status).toBe(403);
    expect((await client.post(`/console/webhooks/${healthyId}/disable`, { csrf: `${csrf.slice(0, -1)}x` })).status).toBe(403);
    expect((await client.post(`/console/webhooks/${healthyId}/disable`, { csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await call('GET', `/v1/admin/webhooks/${healthyId}`)).body).toMatchObject({ enabled: true });
  });

  it('sends signed-out visitors to sign in, and serves the page under the console policy with no script', async () => {
    const { server, writeToken } = await withEndpoints();
    const away = await consoleClient(server.url).get('/console/webhooks?enabled=false');
    expect(away.status).toBe(303);
    expect(away.headers.get('location')).toBe(`/console/sign-in?next=${encodeURIComponent('/console/webhooks?enabled=false')}`);
    const client = consoleClient(server.url);
    await client.signIn(writeToken);
    const page = await client.get('/console/webhooks');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.text).not.toMatch(/<script|\sstyle="|\son[a-z]+=/i);
  });
});
