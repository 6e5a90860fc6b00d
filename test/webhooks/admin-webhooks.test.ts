/**
 * Webhooks end to end, as production wires them: an operator adds an endpoint through the
 * admin API (the secret is in that answer only), a license created through the admin API
 * reaches the receiver through the worker's `webhooks` module, signed; the delivery log and
 * manual redelivery, rotation, the listing of disabled endpoints, and the refusals of URLs the
 * policy does not allow (split by intent: happy, errors, security).
 */
import { describe, expect, it } from 'vitest';

import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import { serverWiring } from '../../server/main.js';
import { DEFAULT_WEBHOOK_CONFIG } from '../../worker/webhooks/webhook-config.js';
import { webhooksModule } from '../../worker/webhooks/webhooks-module.js';
import { callAdminApi } from '../support/admin-server.js';
import { startTestServer } from '../support/server-fixture.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { startTestWorker } from '../support/worker-fixture.js';

const DEV_POLICY = { allowLoopback: true, allowPrivate: false };

async function startStack(policy = DEV_POLICY) {
  const server = await startTestServer({ webhookPolicy: policy }, serverWiring);
  const worker = await startTestWorker(
    { mongoDb: server.config.mongoDb, queuePrefix: server.config.queuePrefix, webhooks: { ...DEFAULT_WEBHOOK_CONFIG, policy, pollIntervalMs: 50 } },
    [webhooksModule],
    { dropDatabase: false },
  );
  const store = new MongoAdminTokenStore({ db: worker.context.db });
  const write = await createAdminToken(store, { name: 'ops', scope: 'write' }, new Date());
  const read = await createAdminToken(store, { name: 'viewer', scope: 'read' }, new Date());
  const call = (method: string, path: string, body?: unknown, token = write.token) => callAdminApi(server.url, token, method, path, body === undefined ? {} : { body });
  return { server, worker, call, readToken: read.token };
}

describe('happy path', () => {
  it('delivers a license created through the admin API to an endpoint added through it, signed with the secret shown once', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { call } = await startStack();
      const created = await call('POST', '/v1/admin/webhooks', { url: receiver.url, description: 'CRM sync', eventTypes: ['license.created', 'license.revoked'] });
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^whsec_/);
      expect(created.headers.get('cache-control')).toBe('no-store');
      const endpointId = created.body.endpoint.id as string;
      receiver.setSecrets([created.body.secret as string]);

      const shown = await call('GET', `/v1/admin/webhooks/${endpointId}`);
      expect(shown.status).toBe(200);
      expect(shown.text).not.toContain(created.body.secret);
      expect(shown.body).toMatchObject({ url: receiver.url, description: 'CRM sync', enabled: true, eventTypes: ['license.created', 'license.revoked'] });

      const license = await call('POST', '/v1/admin/licenses', { planId: 'pro' });
      expect(license.status).toBe(201);
      const licenseId = (license.body.licenses as Array<{ id: string }>)[0]?.id;
      await receiver.waitForUnique(1);
      const [delivered] = [...receiver.unique().values()];
      expect(delivered).toMatchObject({ type: 'license.created', data: { license: { id: licenseId } } });

      const log = await call('GET', `/v1/admin/webhooks/${endpointId}/deliveries`);
      expect(log.status).toBe(200);
      expect(log.body.data).toHaveLength(1);
      const [entry] = log.body.data as Array<{ id: string; status: string; attempts: number; lastAttempt: { statusCode: number; latencyMs: number } }>;
      expect(entry).toMatchObject({ status: 'succeeded', attempts: 1, lastAttempt: { statusCode: 204 } });
      expect(typeof entry?.lastAttempt.latencyMs).toBe('number');

      const redelivered = await call('POST', `/v1/admin/webhooks/${endpointId}/deliveries/${entry?.id ?? ''}/redeliver`, {});
      expect(redelivered.status).toBe(202);
      await receiver.waitForDeliveries(2);
      expect(receiver.deliveries.map((delivery) => delivery.id)).toEqual([delivered?.id, delivered?.id]);

      const rotated = await call('POST', `/v1/admin/webhooks/${endpointId}/rotate-secret`, { overlapSeconds: 3600 });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      expect(rotated.body.endpoint.secrets).toHaveLength(2);
    } finally {
      await receiver.close();
    }
  });

  it('lists disabled endpoints with why, and enables them again', async () => {
    const { call } = await startStack();
    const created = await call('POST', '/v1/admin/webhooks', { url: 'http://127.0.0.1:9/hooks', enabled: false });
    expect(created.body.endpoint).toMatchObject({ enabled: false, disabledReason: 'manual' });
    const disabled = await call('GET', '/v1/admin/webhooks?enabled=false');
    expect(disabled.body.data.map((endpoint: { id: string }) => endpoint.id)).toEqual([created.body.endpoint.id]);
    const enabled = await call('POST', `/v1/admin/webhooks/${created.body.endpoint.id as string}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });
    expect((await call('GET', '/v1/admin/webhooks?enabled=false')).body.data).toEqual([]);
  });

  it('describes the webhook routes in the OpenAPI document', async () => {
    const { server } = await startStack();
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-scope'?: string }>> };
    expect(document.paths['/v1/admin/webhooks']?.['post']?.['x-scope']).toBe('write');
    expect(document.paths['/v1/admin/webhooks/{id}/deliveries']?.['get']?.['x-scope']).toBe('read');
  });
});

describe('errors', () => {
  it('refuses unknown event types, empty changes and unknown endpoints with specific answers', async () => {
    const { call } = await startStack();
    const badType = await call('POST', '/v1/admin/webhooks', { url: 'https://hooks.example.com/k', eventTypes: ['license.exploded'] });
    expect(badType).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
    expect(badType.body.error.message).toContain('eventTypes');
    const created = await call('POST', '/v1/admin/webhooks', { url: 'https://hooks.example.com/k' });
    const empty = await call('POST', `/v1/admin/webhooks/${created.body.endpoint.id as string}`, {});
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
    expect((await call('GET', '/v1/admin/webhooks/whe_nope')).status).toBe(404);
    expect((await call('POST', `/v1/admin/webhooks/${created.body.endpoint.id as string}/deliveries/nope/redeliver`, {})).status).toBe(404);
  });
});

describe('security', () => {
  it.each([
    ['http://hooks.example.com/k', 'INSECURE_WEBHOOK_URL'],
    ['https://10.0.0.5/k', 'ADDRESS_NOT_ALLOWED'],
    ['https://192.168.1.20/k', 'ADDRESS_NOT_ALLOWED'],
    ['https://127.0.0.1/k', 'ADDRESS_NOT_ALLOWED'],
    ['https://user:secret@hooks.example.com/k', 'INVALID_WEBHOOK_URL'],
  ])('refuses %s under the default policy (%s)', async (url, reason) => {
    const { call } = await startStack({ allowLoopback: false, allowPrivate: false });
    const answer = await call('POST', '/v1/admin/webhooks', { url });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST', details: { reason } } } });
  });

  it('needs a write token to add or change an endpoint, and any admin token to read', async () => {
    const { call, readToken, server } = await startStack();
    expect((await call('POST', '/v1/admin/webhooks', { url: 'https://hooks.example.com/k' }, readToken)).status).toBe(403);
    expect((await call('GET', '/v1/admin/webhooks', undefined, readToken)).status).toBe(200);
    expect((await callAdminApi(server.url, '', 'GET', '/v1/admin/webhooks', { token: null })).status).toBe(401);
  });
});
