/**
 * The console's security, against the real server (production wiring), worker and data stores:
 * session cookie attributes, CSRF on every state-changing form, read tokens that can look but not
 * decide, sign-out and token revocation that end a session, and the security headers.
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { buildSignal } from '../../support/abuse-signals.js';
import { startCaseReviewServer, type CaseReviewServer } from '../../support/case-review-server.js';
import { consoleClient, csrfOf } from '../../support/console-client.js';

async function withCase(): Promise<{ api: CaseReviewServer; caseId: string; licenseId: string }> {
  const api = await startCaseReviewServer();
  const licenseId = await api.issue('pro');
  await api.raise(buildSignal({ licenseId, kind: 'velocity', severity: 45, windowStart: new Date(Date.now() - 3_600_000).toISOString(), detectedAt: new Date().toISOString() }));
  return { api, caseId: `case_${licenseId}`, licenseId };
}

const cookieNamed = (lines: readonly string[], name: string): string | undefined => lines.find((line) => line.startsWith(`${name}=`));

describe('console sign-in and session cookie', () => {
  it('exchanges a token for an HttpOnly, SameSite=Strict, expiring session cookie, Secure only behind TLS', async () => {
    const { api } = await withCase();
    const plain = consoleClient(api.server.url);
    const signedIn = await plain.signIn(api.writeToken);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/console');
    const cookie = cookieNamed(signedIn.cookies, 'kw_console');
    expect(cookie).toMatch(/^kw_console=[A-Za-z0-9_-]{43}; Path=\/console; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    // The token itself is in no cookie.
    expect(signedIn.cookies.join('\n')).not.toContain(api.writeToken);

    // Behind a trusted proxy (the test server trusts loopback) that says the client used https.
    const tls = consoleClient(api.server.url);
    const secure = await tls.signIn(api.writeToken, { 'x-forwarded-proto': 'https' });
    expect(cookieNamed(secure.cookies, 'kw_console')).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('refuses a wrong token, and a sign-in form not sent from the sign-in page', async () => {
    const { api } = await withCase();
    const client = consoleClient(api.server.url);
    const wrong = await client.signIn(`kwa_tok_${'0'.repeat(26)}_${'A'.repeat(43)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That is not a valid admin token.');
    expect(client.jar.has('kw_console')).toBe(false);

    // A cross-site form post carries no sign-in cookie: refused before the token is looked at.
    const forged = await consoleClient(api.server.url).post('/console/sign-in', { csrf: 'x'.repeat(43), token: api.writeToken });
    expect(forged.status).toBe(403);
    expect(cookieNamed(forged.cookies, 'kw_console')).toBeUndefined();
  });

  it('sends signed-out visitors to sign in, and back where they were going', async () => {
    const { api, caseId } = await withCase();
    const answer = await consoleClient(api.server.url).get(`/console/cases/${caseId}`);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe(`/console/sign-in?next=${encodeURIComponent(`/console/cases/${caseId}`)}`);
    const client = consoleClient(api.server.url);
    const page = await client.get(`/console/sign-in?next=${encodeURIComponent(`/console/cases/${caseId}`)}`);
    const signedIn = await client.post('/console/sign-in', { csrf: csrfOf(page.text), token: api.readToken, next: `/console/cases/${caseId}` });
    expect(signedIn.headers.get('location')).toBe(`/console/cases/${caseId}`);
    // No open redirect: a next outside the console goes to the queue.
    const other = consoleClient(api.server.url);
    const otherPage = await other.get('/console/sign-in');
    const elsewhere = await other.post('/console/sign-in', { csrf: csrfOf(otherPage.text), token: api.readToken, next: '//evil.example/console' });
    expect(elsewhere.headers.get('location')).toBe('/console');
  });
});

describe('CSRF', () => {
  it('refuses a decision without the session token, with a wrong one, or from another origin; the case stays open', async () => {
    const { api, caseId } = await withCase();
    const client = consoleClient(api.server.url);
    await client.signIn(api.writeToken);
    const page = await client.get(`/console/cases/${caseId}`);
    const csrf = csrfOf(page.text);
    const decide = { action: 'suspend', reason: 'shared on a forum' };
    expect((await client.post(`/console/cases/${caseId}/decide`, decide)).status).toBe(403);
    expect((await client.post(`/console/cases/${caseId}/decide`, { ...decide, csrf: `${csrf.slice(0, -1)}x` })).status).toBe(403);
    expect((await client.post(`/console/cases/${caseId}/decide`, { ...decide, csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await client.post('/console/sign-out', {})).status).toBe(403);
    expect((await api.call('GET', `/v1/admin/cases/${caseId}`)).body).toMatchObject({ status: 'open', decision: null });

    const done = await client.post(`/console/cases/${caseId}/decide`, { ...decide, csrf }, { origin: api.server.url });
    expect(done.status).toBe(303);
    expect((await api.call('GET', `/v1/admin/cases/${caseId}`)).body).toMatchObject({ status: 'actioned', decision: { action: 'suspend' } });
  });
});

describe('read tokens', () => {
  it('can look at a case but get no decision form, and a decision posted anyway is refused', async () => {
    const { api, caseId, licenseId } = await withCase();
    const client = consoleClient(api.server.url);
    await client.signIn(api.readToken);
    const page = await client.get(`/console/cases/${caseId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('you can review this case but not decide it');
    expect(page.text).not.toContain('/decide"');
    const refused = await client.post(`/console/cases/${caseId}/decide`, { csrf: csrfOf(page.text), action: 'revoke', reason: 'trying anyway' });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Read-only token');
    expect((await api.call('GET', `/v1/admin/licenses/${licenseId}`)).body).toMatchObject({ status: 'active' });
    // A read token may not ask for reports either.
    expect((await client.post('/console/reports', { csrf: csrfOf(page.text), hours: '24' })).status).toBe(403);
  });
});

describe('ending a session', () => {
  it('sign-out ends the session on the server: the old cookie no longer opens a page', async () => {
    const { api } = await withCase();
    const client = consoleClient(api.server.url);
    await client.signIn(api.writeToken);
    const cookie = `kw_console=${client.jar.get('kw_console') ?? ''}`;
    const queue = await client.get('/console');
    expect(queue.status).toBe(200);
    const out = await client.post('/console/sign-out', { csrf: csrfOf(queue.text) });
    expect(out.status).toBe(200);
    expect(cookieNamed(out.cookies, 'kw_console')).toMatch(/^kw_console=; Path=\/console; Max-Age=0; HttpOnly; SameSite=Strict$/);
    // Replaying the cookie (as a thief who copied it would) finds a revoked session.
    const replay = await fetch(`${api.server.url}/console`, { headers: { cookie }, redirect: 'manual' });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toMatch(/^\/console\/sign-in/);
  });

  it('revoking the admin token ends its sessions at once', async () => {
    const { api } = await withCase();
    const client = consoleClient(api.server.url);
    await client.signIn(api.writeToken);
    expect((await client.get('/console')).status).toBe(200);
    const mongo = await new MongoClient(api.server.config.mongoUrl).connect();
    onTestFinished(() => mongo.close());
    await new MongoAdminTokenStore({ db: mongo.db(api.server.config.mongoDb) }).revoke(api.writeTokenId, new Date());
    const after = await client.get('/console');
    expect(after.status).toBe(303);
  });
});

describe('security headers', () => {
  it('every console answer forbids scripts, framing and sniffing, and pages are not cached', async () => {
    const { api, caseId } = await withCase();
    const client = consoleClient(api.server.url);
    const answers = [await client.get('/console/sign-in'), await client.get('/console/console.css')];
    await client.signIn(api.writeToken);
    answers.push(await client.get('/console'), await client.get(`/console/cases/${caseId}`), await client.get('/console/reports'));
    for (const answer of answers) {
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/script-src|unsafe-inline/);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.text).not.toMatch(/<script|\sstyle="|\son[a-z]+=/i);
    }
    expect(answers[2]?.headers.get('cache-control')).toBe('no-store');
  });
});
