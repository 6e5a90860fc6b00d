/**
 * Customer and e-mail admin routes, happy paths: a customer's licenses a page at a time, a
 * manual license delivered by e-mail, a key e-mailed again to the same or another address, the
 * outbox listing by status and license, and a key revealed with an audit line.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startAdminServer, type AdminServer } from '../../support/admin-server.js';

let api: AdminServer;
beforeEach(async () => {
  api = await startAdminServer();
});
afterEach(async () => {
  await api.close();
});

async function issue(body: Record<string, unknown>): Promise<Array<{ id: string; key: string; emailId?: string | null }>> {
  const answer = await api.call('POST', '/v1/admin/licenses', { body });
  expect(answer.status).toBe(201);
  return answer.body.licenses;
}

describe('GET /v1/admin/customers/:customerId/licenses', () => {
  it("lists only that customer's licenses, with masked keys, a page at a time", async () => {
    const mine = await issue({ planId: 'pro', customerId: 'cus_ada', count: 5 });
    await issue({ planId: 'pro', customerId: 'cus_bob', count: 2 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const answer = await api.call('GET', `/v1/admin/customers/cus_ada/licenses?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: api.readToken });
      expect(answer.status).toBe(200);
      expect(answer.body.customerId).toBe('cus_ada');
      expect(answer.body.data.length).toBeLessThanOrEqual(2);
      for (const license of answer.body.data) {
        expect(license).toMatchObject({ customerId: 'cus_ada', keyMask: expect.stringMatching(/^TO-\*{4}-\*{4}-\*{4}-[0-9A-Z]{4}$/) });
        expect(license.key).toBeUndefined();
      }
      for (const { key } of mine) expect(answer.text).not.toContain(key);
      seen.push(...answer.body.data.map((license: { id: string }) => license.id));
      cursor = answer.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(mine.map((license) => license.id).sort());
  });

  it('filters by status and answers an empty page for a customer without licenses', async () => {
    const [first] = await issue({ planId: 'pro', customerId: 'cus_ada', count: 2 });
    await api.call('POST', `/v1/admin/licenses/${first!.id}/revoke`, { body: { reason: 'manual' } });
    const revoked = await api.call('GET', '/v1/admin/customers/cus_ada/licenses?status=revoked', { token: api.readToken });
    expect(revoked.body.data.map((license: { id: string }) => license.id)).toEqual([first!.id]);
    const none = await api.call('GET', '/v1/admin/customers/cus_nobody/licenses', { token: api.readToken });
    expect(none.body).toEqual({ customerId: 'cus_nobody', data: [], nextCursor: null });
  });
});

describe('POST /v1/admin/licenses with an email', () => {
  it('queues one key delivery per new license, holding no key, and still answers the keys', async () => {
    const licenses = await issue({ planId: 'pro', customerId: 'cus_ada', count: 2, email: 'ada@example.com' });
    for (const license of licenses) {
      expect(license.emailId).toMatch(/^eml_[0-9a-f]{24}$/);
      expect(await api.outbox.get(license.emailId!)).toMatchObject({ kind: 'key_delivery', to: 'ada@example.com', licenseId: license.id, customerId: 'cus_ada', status: 'pending' });
    }
    const stored = JSON.stringify(await api.outbox.collection.find().toArray());
    for (const { key } of licenses) expect(stored).not.toContain(key);
  });

  it('queues nothing without an email, as before', async () => {
    const [license] = await issue({ planId: 'pro' });
    expect(license!.emailId).toBeUndefined();
    expect(await api.outbox.collection.countDocuments()).toBe(0);
  });
});

describe('POST /v1/admin/licenses/:id/resend-key', () => {
  it("sends the key again to the latest key delivery's address, as a new e-mail each time", async () => {
    const [license] = await issue({ planId: 'pro', customerId: 'cus_ada', email: 'ada@example.com' });
    const first = await api.call('POST', `/v1/admin/licenses/${license!.id}/resend-key`, { body: {} });
    const second = await api.call('POST', `/v1/admin/licenses/${license!.id}/resend-key`);
    for (const answer of [first, second]) {
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ id: expect.stringMatching(/^eml_/), licenseId: license!.id, to: 'ada@example.com', status: 'pending' });
      expect(answer.text).not.toContain(license!.key);
    }
    expect(new Set([license!.emailId, first.body.id, second.body.id]).size).toBe(3);
    expect(await api.outbox.get(first.body.id)).toMatchObject({ kind: 'key_delivery', to: 'ada@example.com', customerId: 'cus_ada' });
  });

  it('sends to the given address, which then becomes the default', async () => {
    const [license] = await issue({ planId: 'pro' });
    const answer = await api.call('POST', `/v1/admin/licenses/${license!.id}/resend-key`, { body: { to: 'new@example.com' } });
    expect(answer).toMatchObject({ status: 202, body: { to: 'new@example.com' } });
    const again = await api.call('POST', `/v1/admin/licenses/${license!.id}/resend-key`);
    expect(again).toMatchObject({ status: 202, body: { to: 'new@example.com' } });
  });

  it('records who asked for a resend, never the key', async () => {
    const [license] = await issue({ planId: 'pro', email: 'ada@example.com' });
    await api.call('POST', `/v1/admin/licenses/${license!.id}/resend-key`, { headers: { 'x-request-id': 'req-resend' } });
    const line = api.logs.find((entry) => entry.includes('"resend_key"'));
    expect(JSON.parse(line!)).toMatchObject({ event: 'resend_key', licenseId: license!.id, actor: `admin:${api.writeTokenId}`, requestId: 'req-resend' });
    expect(api.logs.join('')).not.toContain(license!.key);
  });
});

describe('GET /v1/admin/emails', () => {
  it('lists outbox e-mails newest first, by status and license, without any key', async () => {
    const [a] = await issue({ planId: 'pro', email: 'a@example.com' });
    const [b] = await issue({ planId: 'pro', email: 'b@example.com' });
    const claim = await api.outbox.claimDue(new Date(Date.now() + 1_000), 60_000);
    await api.outbox.markFailed(claim!, new Date(), 'EENVELOPE: 550 mailbox unavailable');

    const all = await api.call('GET', '/v1/admin/emails', { token: api.readToken });
    expect(all.status).toBe(200);
    expect(all.body.data).toHaveLength(2);
    for (const key of [a!.key, b!.key]) expect(all.text).not.toContain(key);
    const failed = await api.call('GET', '/v1/admin/emails?status=failed', { token: api.readToken });
    expect(failed.body.data).toMatchObject([{ id: claim!.email._id, status: 'failed', attempts: 1, lastError: 'EENVELOPE: 550 mailbox unavailable', nextAttemptAt: null }]);
    const ofB = await api.call('GET', `/v1/admin/emails?licenseId=${b!.id}`, { token: api.readToken });
    expect(ofB.body.data).toMatchObject([{ licenseId: b!.id, to: 'b@example.com', kind: 'key_delivery' }]);

    const firstPage = await api.call('GET', '/v1/admin/emails?limit=1', { token: api.readToken });
    const secondPage = await api.call('GET', `/v1/admin/emails?limit=1&cursor=${firstPage.body.nextCursor}`, { token: api.readToken });
    expect([...firstPage.body.data, ...secondPage.body.data].map((email: { id: string }) => email.id).sort()).toEqual(all.body.data.map((email: { id: string }) => email.id).sort());
    expect(secondPage.body.nextCursor).toBeNull();
  });
});

describe('POST /v1/admin/emails/:emailId/retry', () => {
  it('queues a failed e-mail again with fresh attempts, and says who asked', async () => {
    const [license] = await issue({ planId: 'pro', email: 'ada@example.com' });
    await api.outbox.markFailed((await api.outbox.claimDue(new Date(Date.now() + 1_000), 60_000))!, new Date(), 'EAUTH: 535');
    const answer = await api.call('POST', `/v1/admin/emails/${license!.emailId}/retry`);
    expect(answer).toMatchObject({ status: 202, body: { id: license!.emailId, status: 'pending', attempts: 0, failedAt: null } });
    expect(api.logs.some((line) => line.includes('"retry_email"') && line.includes(api.writeTokenId))).toBe(true);
    const again = await api.call('POST', `/v1/admin/emails/${license!.emailId}/retry`);
    expect(again).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});

describe('POST /v1/admin/licenses/:id/reveal-key', () => {
  it('shows the plain key to a write token and logs who saw it, without the key', async () => {
    const [license] = await issue({ planId: 'pro' });
    const answer = await api.call('POST', `/v1/admin/licenses/${license!.id}/reveal-key`, { headers: { 'x-request-id': 'req-reveal' } });
    expect(answer).toMatchObject({ status: 200, body: { key: license!.key } });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const line = api.logs.find((entry) => entry.includes('"reveal_key"'));
    expect(JSON.parse(line!)).toMatchObject({ licenseId: license!.id, actor: `admin:${api.writeTokenId}`, requestId: 'req-reveal' });
    expect(api.logs.join('')).not.toContain(license!.key);
  });
});
