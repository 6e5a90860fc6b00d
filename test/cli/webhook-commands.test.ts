/**
 * `keyward webhooks …` against a real server over HTTP (KEYWARD_URL / KEYWARD_TOKEN or --url /
 * --token): create (secret printed once), list the disabled ones, update, rotate, read the
 * delivery log and redeliver; the API's refusals come back as `{ error }` with exit 1, missing
 * connection settings as exit 2.
 */
import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../../cli/main.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import { serverWiring } from '../../server/main.js';
import { startTestServer } from '../support/server-fixture.js';

async function start() {
  const server = await startTestServer({ webhookPolicy: { allowLoopback: true, allowPrivate: false } }, serverWiring);
  const { MongoClient } = await import('mongodb');
  const client = await new MongoClient(server.config.mongoUrl).connect();
  const db = client.db(server.config.mongoDb);
  const { token } = await createAdminToken(new MongoAdminTokenStore({ db }), { name: 'cli', scope: 'write' }, new Date());
  const io = { out: '', err: '' };
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, done) {
      io.err += chunk.toString();
      done();
    },
  });
  const run = async (env: Record<string, string>, ...args: string[]) => {
    io.out = '';
    io.err = '';
    const cliIo: CliIo = { stdout: { write: (text: string) => (io.out += text) }, stderr, env, cwd: process.cwd() };
    const code = await runCli(args, cliIo);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers freely
    return { code, json: (io.out === '' ? null : JSON.parse(io.out)) as any, err: io.err };
  };
  return { server, db, client, token, run, env: { KEYWARD_URL: server.url, KEYWARD_TOKEN: token } };
}

describe('keyward webhooks', () => {
  it('manages an endpoint from a terminal through the admin API', async () => {
    const { run, env, db, client } = await start();
    try {
      const created = await run(env, 'webhooks', 'create', 'http://127.0.0.1:9/hooks', '--description', 'CRM', '--events', 'license.created,license.revoked');
      expect(created.code).toBe(0);
      expect(created.json.secret).toMatch(/^whsec_/);
      const id = created.json.endpoint.id as string;
      expect(created.json.endpoint).toMatchObject({ description: 'CRM', eventTypes: ['license.created', 'license.revoked'], enabled: true });

      const disabled = await run(env, 'webhooks', 'update', id, '--disable', '--events', 'all');
      expect(disabled.err).toBe('');
      expect(disabled.json).toMatchObject({ enabled: false, disabledReason: 'manual', eventTypes: null });
      const listed = await run(env, 'webhooks', 'list', '--disabled');
      expect(listed.json.data.map((endpoint: { id: string }) => endpoint.id)).toEqual([id]);
      const shown = await run(env, 'webhooks', 'get', id);
      expect(shown.json.deliveries).toEqual({ pending: 0, succeeded: 0, failed: 0 });

      const rotated = await run(env, 'webhooks', 'rotate-secret', id, '--overlap-seconds', '60');
      expect(rotated.json.secret).not.toBe(created.json.secret);

      // A delivery in the log (recorded as the worker would) can be listed and redelivered.
      const outbox = new MongoWebhookOutbox({ db });
      const event = { id: 'evt_0123456789abcdef01234567', type: 'license.created' as const, occurredAt: new Date(), data: {} };
      await outbox.record([event], new Date());
      await outbox.fanOut(event, [id], new Date());
      const log = await run(env, 'webhooks', 'deliveries', id, '--status', 'pending');
      expect(log.json.data.map((delivery: { id: string }) => delivery.id)).toEqual([`${id}:${event.id}`]);
      const again = await run(env, 'webhooks', 'redeliver', id, `${id}:${event.id}`);
      expect(again.code).toBe(0);
      expect(again.json).toMatchObject({ status: 'pending', attempts: 0, note: expect.stringContaining('disabled') });
    } finally {
      await client.close();
    }
  });

  it('prints the API refusal with exit 1, and needs --url/--token or the environment (exit 2)', async () => {
    const { run, env, server, token, client } = await start();
    try {
      const refused = await run(env, 'webhooks', 'create', 'https://10.0.0.8/hooks');
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.err).error.code).toBe('INVALID_REQUEST');
      expect(JSON.parse(refused.err).error.message).toContain('private address 10.0.0.8');
      expect((await run(env, 'webhooks', 'get', 'whe_missing')).code).toBe(1);
      expect((await run({}, 'webhooks', 'list')).code).toBe(2);
      expect((await run({}, 'webhooks', 'list', '--url', server.url, '--token', token)).code).toBe(0);
      expect((await run(env, 'webhooks', 'create', 'https://hooks.example.com', '--events', 'license.exploded')).code).toBe(2);
    } finally {
      await client.close();
    }
  });
});
