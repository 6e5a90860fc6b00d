/**
 * The console's pages and decisions against the real server (production wiring) and worker:
 * the queue's status, kind, age and search filters; every decision (dismiss, suspend, revoke,
 * reinstate) through the same services as the admin API, shown at once; reports listed, made and
 * opened inline; and sessions that expire (an injected clock, no waiting).
 */
import type { Context } from 'koa';
import { describe, expect, it } from 'vitest';

import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { AdminAuth, createAdminToken } from '../../../server/auth/admin-auth.js';
import { ConsoleAuth } from '../../../server/console/console-auth.js';
import { MongoConsoleSessionStore } from '../../../server/console/console-session-store.js';
import { withTestDatabase } from '../../setup/services.js';
import { buildSignal } from '../../support/abuse-signals.js';
import { startCaseReviewServer } from '../../support/case-review-server.js';
import { consoleClient, csrfOf } from '../../support/console-client.js';

const hoursAgo = (hours: number): string => new Date(Date.now() - hours * 3_600_000).toISOString();

describe('the queue', () => {
  it('filters by status, kind and age, and searches by license, customer and masked key', async () => {
    const api = await startCaseReviewServer();
    const issued = await api.server.server.keyward.licenses.issue({ planId: 'pro', customerId: 'cus_queue_1' });
    if (!issued.ok) throw new Error(issued.refusal.message);
    const fresh = issued.value.record.license.id;
    const old = await api.issue('basic');
    const dismissed = await api.issue('open');
    await api.raise(buildSignal({ licenseId: fresh, kind: 'velocity', severity: 60, windowStart: hoursAgo(2), detectedAt: hoursAgo(1) }));
    await api.raise(buildSignal({ licenseId: old, kind: 'geo_spread', severity: 40, windowStart: hoursAgo(24 * 10), detectedAt: hoursAgo(24 * 10 - 1) }));
    await api.raise(buildSignal({ licenseId: dismissed, kind: 'domain_spoofing', severity: 30, windowStart: hoursAgo(3), detectedAt: hoursAgo(2) }));
    expect((await api.call('POST', `/v1/admin/cases/case_${dismissed}/decisions`, { body: { action: 'dismiss', reason: 'our own staging site' } })).status).toBe(200);

    const client = consoleClient(api.server.url);
    await client.signIn(api.readToken);
    const casesOn = async (query: string): Promise<string[]> => {
      const page = await client.get(`/console${query}`);
      expect(page.status).toBe(200);
      return [...page.text.matchAll(/href="\/console\/cases\/(case_[a-z0-9_]+)"/g)].map(([, id]) => id ?? '');
    };
    expect(await casesOn('')).toEqual([`case_${fresh}`, `case_${old}`]);
    // Highest score first (as stored at each case's last change).
    expect((await casesOn('?status=any')).sort()).toEqual([`case_${fresh}`, `case_${old}`, `case_${dismissed}`].sort());
    expect(await casesOn('?status=dismissed')).toEqual([`case_${dismissed}`]);
    expect(await casesOn('?kind=geo_spread')).toEqual([`case_${old}`]);
    expect(await casesOn('?age=7')).toEqual([`case_${fresh}`]);
    expect(await casesOn(`?q=${fresh.slice(-8).toUpperCase()}`)).toEqual([`case_${fresh}`]);
    expect(await casesOn('?q=cus_queue')).toEqual([`case_${fresh}`]);
    expect(await casesOn(`?q=${encodeURIComponent(issued.value.key.toLowerCase())}`)).toEqual([`case_${fresh}`]);
    expect(await casesOn(`?q=${encodeURIComponent(issued.value.record.keyMask)}`)).toEqual([`case_${fresh}`]);
    // Filters that are not ours are ignored, not echoed unescaped.
    const odd = await client.get('/console?kind=%3Cscript%3E&q=%3Cb%3Ehi');
    expect(odd.text).not.toContain('<b>hi');
    expect(odd.text).toContain('&lt;b&gt;hi');
  });
});

describe('decisions', () => {
  it('dismiss, suspend, reinstate and revoke, each shown at once and recorded as the signed-in token', async () => {
    const api = await startCaseReviewServer();
    const licenseId = await api.issue('pro');
    const caseId = `case_${licenseId}`;
    await api.raise(buildSignal({ licenseId, kind: 'velocity', severity: 50, windowStart: hoursAgo(2), detectedAt: hoursAgo(1) }));
    const client = consoleClient(api.server.url);
    await client.signIn(api.writeToken);
    const decide = async (action: string, reason: string) => {
      const page = await client.get(`/console/cases/${caseId}`);
      const answer = await client.post(`/console/cases/${caseId}/decide`, { csrf: csrfOf(page.text), action, reason });
      expect(answer.status).toBe(303);
      expect(answer.headers.get('location')).toBe(`/console/cases/${caseId}?done=${action}`);
      return client.get(answer.headers.get('location') ?? '');
    };
    expect((await decide('dismiss', 'a customer with many offices')).text).toContain('Case dismissed.');
    const suspended = await decide('suspend', 'resold on a forum');
    expect(suspended.text).toContain('License suspended; the case is actioned.');
    expect(suspended.text).toContain('Reinstate the key');
    expect((await api.call('GET', `/v1/admin/licenses/${licenseId}`)).body).toMatchObject({ status: 'suspended', suspension: { reason: 'abuse_hold' } });
    expect((await decide('reinstate', 'the customer proved the seats are theirs')).text).toContain('License reinstated.');
    expect((await api.call('GET', `/v1/admin/licenses/${licenseId}`)).body).toMatchObject({ status: 'active' });
    expect((await decide('revoke', 'confirmed resale')).text).toContain('License revoked for good');
    const audit = (await api.call('GET', `/v1/admin/licenses/${licenseId}/audit`)).body.data as Array<{ command: string; cause: { actor: string; reason?: string } }>;
    expect(audit.slice(1).map(({ command, cause }) => [command, cause.actor, cause.reason])).toEqual([
      ['suspend', `admin:${api.writeTokenId}`, 'resold on a forum'],
      ['reinstate', `admin:${api.writeTokenId}`, 'the customer proved the seats are theirs'],
      ['revoke', `admin:${api.writeTokenId}`, 'confirmed resale'],
    ]);

    // A refused decision is explained on the page, and nothing changes.
    const page = await client.get(`/console/cases/${caseId}`);
    const refused = await client.post(`/console/cases/${caseId}/decide`, { csrf: csrfOf(page.text), action: 'suspend', reason: 'again' });
    expect(refused.status).toBe(409);
    expect(refused.text).toMatch(/class="error" role="alert">[^<]*\(LICENSE_REVOKED|ALREADY_REVOKED\)/);
    const short = await client.post(`/console/cases/${caseId}/decide`, { csrf: csrfOf(page.text), action: 'dismiss', reason: 'x' });
    expect(short.status).toBe(422);
  });
});

describe('reports in the console', () => {
  it('lists reports, makes one on request, and opens a ready one inline with its downloads', async () => {
    const api = await startCaseReviewServer();
    const licenseId = await api.issue('pro');
    await api.raise(buildSignal({ licenseId, kind: 'velocity', severity: 50, windowStart: hoursAgo(2), detectedAt: hoursAgo(1), evidence: { details: { distinctIps: 106 } }, value: 1_600 }));
    const client = consoleClient(api.server.url);
    await client.signIn(api.writeToken);
    const list = await client.get('/console/reports');
    expect(list.text).toContain('No reports yet');
    const asked = await client.post('/console/reports', { csrf: csrfOf(list.text), hours: '24' });
    expect(asked.status).toBe(303);
    const reportId = new URL(asked.headers.get('location') ?? '', api.server.url).searchParams.get('asked') ?? '';
    // The worker's cases module makes it; wait for the state change, not for a time.
    for (let i = 0; (await api.call('GET', `/v1/admin/reports/${reportId}`)).body.status !== 'ready'; i++) {
      if (i > 600) throw new Error('report not made');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const listed = await client.get('/console/reports');
    expect(listed.text).toContain(`href="/console/reports/${reportId}"`);
    const opened = await client.get(`/console/reports/${reportId}`);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain('1,600 validations in one hour from 106 addresses (more than 1,000 is unusual).');
    expect(opened.text).toContain(`href="/console/cases/case_${licenseId}"`);
    expect(opened.text).not.toContain('<style');
    const csv = await client.get(`/console/reports/${reportId}/download.csv`);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="${reportId}.csv"`);
    expect(csv.text).toContain(`case_${licenseId}`);
  });
});

describe('session expiry', () => {
  it('a session ends when its time is up, and so does a session of an expired token', async () => {
    await withTestDatabase(async (db) => {
      let now = new Date('2026-12-01T09:00:00Z');
      const clock = () => now;
      const tokens = new MongoAdminTokenStore({ db });
      const adminAuth = new AdminAuth({ store: tokens, clock });
      const auth = new ConsoleAuth({ adminAuth, tokens, sessions: new MongoConsoleSessionStore({ db }), sessionTtlMs: 3_600_000, clock });
      const { token } = await createAdminToken(tokens, { name: 'short', scope: 'write', expiresAt: new Date('2026-12-01T12:00:00Z') }, now);
      const request = (cookie = '') =>
        ({ get: (name: string) => (name === 'cookie' ? cookie : ''), req: { socket: { remoteAddress: '127.0.0.1' }, headers: {} } }) as unknown as Context;

      const opened = await auth.signIn(request(), token);
      if (!opened.ok) throw new Error(opened.message);
      expect(opened.cookie).toContain('Max-Age=3600');
      const cookie = opened.cookie.split(';')[0] ?? '';
      expect(await auth.userOf(request(cookie))).toMatchObject({ tokenName: 'short', canDecide: true });
      now = new Date('2026-12-01T09:59:59Z');
      expect(await auth.userOf(request(cookie))).not.toBeNull();
      now = new Date('2026-12-01T10:00:00Z');
      expect(await auth.userOf(request(cookie))).toBeNull();

      // A fresh session still ends when the token itself expires.
      now = new Date('2026-12-01T11:30:00Z');
      const late = await auth.signIn(request(), token);
      if (!late.ok) throw new Error(late.message);
      const lateCookie = late.cookie.split(';')[0] ?? '';
      expect(await auth.userOf(request(lateCookie))).not.toBeNull();
      now = new Date('2026-12-01T12:00:00Z');
      expect(await auth.userOf(request(lateCookie))).toBeNull();
      expect(await auth.signIn(request(), token)).toEqual({ ok: false, message: 'This admin token has expired; ask for a new one.' });
    });
  });
});
