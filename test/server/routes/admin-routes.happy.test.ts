/**
 * Admin API, happy paths: a license's whole lifecycle through the API with who-did-what in its
 * audit trail, bulk issue, filtered and paginated listing, usage and key reveal.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../support/admin-server.js';

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

let api: AdminServer;
beforeEach(async () => {
  api = await startAdminServer();
});
afterEach(async () => {
  await api.close();
});

async function issue(body: Record<string, unknown>): Promise<Array<{ id: string; key: string }>> {
  const answer = await api.call('POST', '/v1/admin/licenses', { body });
  expect(answer.status).toBe(201);
  return answer.body.licenses;
}

describe('a license through its whole lifecycle', () => {
  it('is created, read, suspended, reinstated, upgraded, renewed and revoked, and the audit trail says who did what, in order', async () => {
    const periodEndsAt = inDays(30);
    const created = await api.call('POST', '/v1/admin/licenses', {
      body: { planId: 'basic', customerId: 'cus_42', periodEndsAt },
      headers: { 'x-request-id': 'req-issue' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const [license] = created.body.licenses;
    expect(license).toMatchObject({
      id: expect.stringMatching(/^lic_[0-9a-z]{26}$/),
      key: expect.stringMatching(/^TO-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/),
      keyMask: expect.stringMatching(/^TO-\*{4}-\*{4}-\*{4}-[0-9A-Z]{4}$/),
      planId: 'basic',
      customerId: 'cus_42',
      status: 'active',
      periodEndsAt: new Date(periodEndsAt).toISOString(),
    });
    const id: string = license.id;

    const read = await api.call('GET', `/v1/admin/licenses/${id}`, { token: api.readToken });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, keyMask: license.keyMask, planId: 'basic', status: 'active', version: 1, limits: { maxActivations: 1 } });

    const steps: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['suspend', { reason: 'abuse_hold', note: 'looks shared' }, { status: 'suspended', suspension: { reason: 'abuse_hold', note: 'looks shared' } }],
      ['reinstate', {}, { status: 'active', suspension: null }],
      ['change-plan', { planId: 'pro' }, { planId: 'pro', limits: { maxActivations: 3 }, features: ['export'] }],
      ['renew', { periodEndsAt: inDays(400) }, { status: 'active' }],
      ['revoke', { reason: 'refund', note: 'refunded in full' }, { status: 'revoked', revocation: { reason: 'refund', note: 'refunded in full' } }],
    ];
    for (const [action, body, expected] of steps) {
      const answer = await api.call('POST', `/v1/admin/licenses/${id}/${action}`, { body, headers: { 'x-request-id': `req-${action}` } });
      expect(answer.status, action).toBe(200);
      expect(answer.body, action).toMatchObject({ id, ...expected });
      expect(answer.text, action).not.toContain(license.key);
    }

    const trail = await api.call('GET', `/v1/admin/licenses/${id}/audit`, { token: api.readToken });
    expect(trail.status).toBe(200);
    expect(trail.body.nextCursor).toBeNull();
    expect(trail.body.data.map((entry: { command: string; from: string | null; to: string; version: number }) => [entry.version, entry.command, entry.from, entry.to])).toEqual([
      [1, 'issue', null, 'active'],
      [2, 'suspend', 'active', 'suspended'],
      [3, 'reinstate', 'suspended', 'active'],
      [4, 'change_plan', 'active', 'active'],
      [5, 'renew', 'active', 'active'],
      [6, 'revoke', 'active', 'revoked'],
    ]);
    const actor = `admin:${api.writeTokenId}`;
    expect(trail.body.data.map((entry: { cause: unknown }) => entry.cause)).toEqual([
      { actor, ref: 'req-issue' },
      { actor, ref: 'req-suspend', reason: 'looks shared' },
      { actor, ref: 'req-reinstate' },
      { actor, ref: 'req-change-plan' },
      { actor, ref: 'req-renew' },
      { actor, ref: 'req-revoke', reason: 'refunded in full' },
    ]);

    // The revocation reaches the hot path: the key no longer validates.
    const validation = await api.fixture.keyward.validation.validate(
      api.fixture.keyward.validation.prepare(license.key),
      { key: license.key },
      { ip: '127.0.0.1', origin: null, referer: null, userAgent: null },
    );
    expect(validation).toMatchObject({ valid: false, code: 'REVOKED' });
  });

  it('cancels at the period end and resumes', async () => {
    const [license] = await issue({ planId: 'pro', periodEndsAt: inDays(30) });
    const cancelled = await api.call('POST', `/v1/admin/licenses/${license!.id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { cancelAtPeriodEnd: true, status: 'active' } });
    const resumed = await api.call('POST', `/v1/admin/licenses/${license!.id}/resume`, { body: {} });
    expect(resumed).toMatchObject({ status: 200, body: { cancelAtPeriodEnd: false, version: 3 } });
  });

  it('schedules a downgrade for the period end instead of applying it', async () => {
    const periodEndsAt = inDays(30);
    const [license] = await issue({ planId: 'pro', periodEndsAt });
    const answer = await api.call('POST', `/v1/admin/licenses/${license!.id}/change-plan`, { body: { planId: 'basic', freeActivationIds: [] } });
    expect(answer).toMatchObject({ status: 200, body: { planId: 'pro', pendingChange: { planId: 'basic', effectiveAt: new Date(periodEndsAt).toISOString() } } });
  });
});

describe('issuing in bulk', () => {
  it('issues count licenses with distinct keys, all in the answer and in the database', async () => {
    const licenses = await issue({ planId: 'pro', trial: true, customerId: 'cus_bulk', count: 40 });
    expect(licenses).toHaveLength(40);
    expect(new Set(licenses.map((license) => license.key)).size).toBe(40);
    expect(new Set(licenses.map((license) => license.id)).size).toBe(40);
    for (const license of licenses) {
      expect(license).toMatchObject({ key: expect.stringMatching(/^TO-T-/), keyType: 'trial', trial: { endsAt: expect.any(String) } });
    }
    expect(await api.fixture.db.collection('licenses').countDocuments({ customerId: 'cus_bulk' })).toBe(40);
  });
});

describe('listing', () => {
  async function seed() {
    const basic = await issue({ planId: 'basic', customerId: 'cus_a', count: 10 });
    const pro = await issue({ planId: 'pro', customerId: 'cus_b', count: 15 });
    for (const license of pro.slice(0, 3)) {
      expect((await api.call('POST', `/v1/admin/licenses/${license.id}/suspend`, { body: {} })).status).toBe(200);
    }
    return { basic, pro, all: [...basic, ...pro].map((license) => license.id).sort() };
  }

  it('walks 25 licenses in id order, page by page, until nextCursor is null', async () => {
    const { all } = await seed();
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `limit=10${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page = await api.call('GET', `/v1/admin/licenses?${query}`, { token: api.readToken });
      expect(page.status).toBe(200);
      pageSizes.push(page.body.data.length);
      seen.push(...page.body.data.map((license: { id: string }) => license.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(pageSizes).toEqual([10, 10, 5]);
    expect(seen).toEqual(all);
  });

  it('answers nextCursor null when the last page is exactly full', async () => {
    await seed();
    const first = await api.call('GET', '/v1/admin/licenses?limit=20');
    const last = await api.call('GET', `/v1/admin/licenses?limit=5&cursor=${first.body.nextCursor}`);
    expect(last.body.data).toHaveLength(5);
    expect(last.body.nextCursor).toBeNull();
  });

  it.each([
    ['planId=basic', 10],
    ['customerId=cus_b', 15],
    ['status=suspended', 3],
    ['status=active&planId=pro', 12],
    ['product=default', 25],
    ['customerId=cus_nobody', 0],
  ])('filters by %s', async (query, expected) => {
    await seed();
    const answer = await api.call('GET', `/v1/admin/licenses?${query}&limit=500`, { token: api.readToken });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toHaveLength(expected);
    expect(answer.body.nextCursor).toBeNull();
  });

  it('defaults to pages of 50', async () => {
    await issue({ planId: 'open', count: 60 });
    const answer = await api.call('GET', '/v1/admin/licenses');
    expect(answer.body.data).toHaveLength(50);
    expect(answer.body.nextCursor).toBe(answer.body.data[49].id);
  });
});

describe('audit trail pages', () => {
  it('pages by version with afterVersion', async () => {
    const [license] = await issue({ planId: 'pro', periodEndsAt: inDays(30) });
    await api.call('POST', `/v1/admin/licenses/${license!.id}/suspend`, { body: {} });
    await api.call('POST', `/v1/admin/licenses/${license!.id}/reinstate`, { body: {} });
    const first = await api.call('GET', `/v1/admin/licenses/${license!.id}/audit?limit=2`);
    expect(first.body.data.map((entry: { command: string }) => entry.command)).toEqual(['issue', 'suspend']);
    expect(first.body.nextCursor).toBe('2');
    const second = await api.call('GET', `/v1/admin/licenses/${license!.id}/audit?limit=2&afterVersion=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ data: [{ command: 'reinstate', version: 3 }], nextCursor: null });
  });
});

describe('usage', () => {
  it("answers this month's validations and the plan's quota", async () => {
    const [license] = await issue({ planId: 'metered' });
    const { validation } = api.fixture.keyward;
    for (let i = 0; i < 3; i++) {
      await validation.validate(validation.prepare(license!.key), { key: license!.key }, { ip: '127.0.0.1', origin: null, referer: null, userAgent: null });
    }
    const month = new Date().toISOString().slice(0, 7);
    const answer = await api.call('GET', `/v1/admin/licenses/${license!.id}/usage`, { token: api.readToken });
    expect(answer).toMatchObject({ status: 200, body: { licenseId: license!.id, month, validations: 3, quota: 5 } });
    const past = await api.call('GET', `/v1/admin/licenses/${license!.id}/usage?month=2020-01`);
    expect(past.body).toEqual({ licenseId: license!.id, month: '2020-01', validations: 0, quota: 5 });
  });
});

describe('revealing a key', () => {
  it('answers the plain key and logs who saw it, without the key', async () => {
    const [license] = await issue({ planId: 'pro' });
    const answer = await api.call('POST', `/v1/admin/licenses/${license!.id}/reveal-key`, { headers: { 'x-request-id': 'req-reveal' } });
    expect(answer).toMatchObject({ status: 200, body: { key: license!.key } });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const events = api.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry['event'] === 'reveal_key');
    expect(events).toEqual([
      expect.objectContaining({ level: 30, licenseId: license!.id, actor: `admin:${api.writeTokenId}`, requestId: 'req-reveal' }),
    ]);
    expect(api.logs.join('\n')).not.toContain(license!.key);
  });
});
