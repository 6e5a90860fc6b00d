/** POST /v1/licenses/heartbeat over HTTP: happy path, refusals with their statuses, bad bodies. */
import { describe, expect, it } from 'vitest';

import { generateKey } from '../../../lib/keys/generate-key.js';
import { verifyValidationToken } from '../../../lib/tokens/validation-token.js';
import { issueLicense } from '../../support/licenses.js';
import { startTestServer } from '../../support/server-fixture.js';

describe('POST /v1/licenses/heartbeat', () => {
  it('keeps a checked-out floating seat and answers a fresh validation whose token ends with the lease', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'floating' });
    const checkedOut = await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'seat-1' });
    expect(checkedOut).toMatchObject({ status: 200, body: { activated: true, heartbeatSeconds: 60, leaseExpiresAt: expect.any(String) } });

    const beat = await server.post('/v1/licenses/heartbeat', { key: license.key, fingerprint: 'seat-1', product: 'default' });
    expect(beat).toMatchObject({ status: 200, body: { valid: true, code: 'VALID', leaseExpiresAt: expect.any(String), token: expect.any(String) } });
    const verified = verifyValidationToken(String(beat.body['token']), new Date(), { publicKey: server.publicKey, audience: 'default' });
    expect(verified).toMatchObject({ ok: true, claims: { sub: license.id, fingerprint: 'seat-1' } });
    if (verified.ok) expect(verified.claims.exp).toBe(Math.floor(Date.parse(String(beat.body['leaseExpiresAt'])) / 1000));
  });

  it.each([
    { name: 'a machine that never checked out', plan: 'floating', body: (key: string) => ({ key, fingerprint: 'stranger' }), status: 409, code: 'NOT_ACTIVATED' },
    { name: 'a plan with fixed seats', plan: 'pro', body: (key: string) => ({ key, fingerprint: 'seat-1' }), status: 409, code: 'NOT_FLOATING' },
    { name: 'an unknown key', plan: 'floating', body: () => ({ key: generateKey({ prefix: 'TO' }), fingerprint: 'seat-1' }), status: 404, code: 'NOT_FOUND' },
    { name: 'a malformed key', plan: 'floating', body: () => ({ key: 'TO-0000-0000-0000-0000', fingerprint: 'seat-1' }), status: 400, code: 'MALFORMED_KEY' },
    { name: 'no fingerprint', plan: 'floating', body: (key: string) => ({ key }), status: 400, code: 'INVALID_REQUEST' },
  ])('refuses $name with $status $code', async ({ plan, body, status, code }) => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: plan });
    const answer = await server.post('/v1/licenses/heartbeat', body(license.key));
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ error: { code } });
  });

  it('counts against the per-key rate limit like the other client routes', async () => {
    const server = await startTestServer({ rateLimits: { perIpPerMinute: 100_000, perKeyPerMinute: 2 } });
    const license = await issueLicense(server.server, { planId: 'floating' });
    await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'seat-1' });
    expect((await server.post('/v1/licenses/heartbeat', { key: license.key, fingerprint: 'seat-1' })).status).toBe(200);
    const limited = await server.post('/v1/licenses/heartbeat', { key: license.key, fingerprint: 'seat-1' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
