/**
 * E-mail end to end, as production wires it: the server (serverWiring) queues a key delivery for
 * a manual license and wakes the worker's mail module through the `{mail}` queue, which sends it
 * through SMTP; the OpenAPI document describes the customer and e-mail routes.
 */
import { describe, expect, it } from 'vitest';

import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import { serverWiring } from '../../server/main.js';
import { DEFAULT_MAIL_CONFIG } from '../../worker/mail/mail-config.js';
import { mailModule } from '../../worker/mail/mail-module.js';
import { startTestServer } from '../support/server-fixture.js';
import { startSmtpServer } from '../support/smtp-test-server.js';
import { startTestWorker } from '../support/worker-fixture.js';

describe('e-mail through the production wiring', () => {
  it('delivers the key of a license created with an email, woken by the server, and resends it on request', async () => {
    const smtp = await startSmtpServer();
    const server = await startTestServer({}, serverWiring);
    // The sweep is far off: only the server's wake jobs can make the deliveries happen in time.
    const worker = await startTestWorker(
      {
        mongoDb: server.config.mongoDb,
        queuePrefix: server.config.queuePrefix,
        mail: { ...DEFAULT_MAIL_CONFIG, smtpUrl: smtp.url, from: 'Licenses <licenses@keyward.test>', sweepIntervalMs: 3_600_000 },
      },
      [mailModule],
      { dropDatabase: false },
    );
    const { token } = await createAdminToken(new MongoAdminTokenStore({ db: worker.context.db }), { name: 'ops', scope: 'write' }, new Date());
    const admin = async (path: string, body: unknown) => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    const created = await admin('/v1/admin/licenses', { planId: 'pro', email: 'ada@example.com' });
    expect(created.status).toBe(201);
    const [license] = created.body['licenses'] as Array<{ id: string; key: string; emailId: string }>;
    const [delivery] = await smtp.waitFor(1);
    expect(delivery).toMatchObject({ envelopeTo: ['ada@example.com'], messageId: `<${license!.emailId}@keyward.test>` });
    expect(delivery!.text).toContain(license!.key);

    const resent = await admin(`/v1/admin/licenses/${license!.id}/resend-key`, {});
    expect(resent).toMatchObject({ status: 202, body: { to: 'ada@example.com' } });
    const [, again] = await smtp.waitFor(2);
    expect(again!.messageId).toBe(`<${String(resent.body['id'])}@keyward.test>`);
    expect(again!.text).toContain(license!.key);
  });

  it('describes the customer and e-mail routes in the OpenAPI document', async () => {
    const server = await startTestServer({}, serverWiring);
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown; 'x-scope'?: string }>> };
    expect(document.paths['/v1/admin/customers/{customerId}/licenses']?.['get']?.['x-scope']).toBe('read');
    expect(document.paths['/v1/admin/licenses/{id}/resend-key']?.['post']?.['x-scope']).toBe('write');
    expect(document.paths['/v1/admin/emails']?.['get']?.security).toEqual([{ adminToken: [] }]);
  });
});
