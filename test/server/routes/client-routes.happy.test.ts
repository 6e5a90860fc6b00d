/** Client routes, happy paths: what client software sees when things are as they should be. */
import { describe, expect, it } from 'vitest';
import { generateKey } from '../../../lib/keys/generate-key.js';
import { verifyValidationToken } from '../../../lib/tokens/validation-token.js';
import { VALIDATION_CODES } from '../../../lib/validation/validation-code.js';
import { command, endPeriod, issueLicense } from '../../support/licenses.js';
import { startTestServer } from '../../support/server-fixture.js';

describe('POST /v1/licenses/validate', () => {
  it('answers VALID with the plan, limits and a token the client can verify offline', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    const { status, body } = await server.post('/v1/licenses/validate', { key: license.key });
    expect(status).toBe(200);
    expect(body).toMatchObject({ valid: true, code: 'VALID', license: { id: license.id, planId: 'open', status: 'active' } });
    const verified = verifyValidationToken(String(body['token']), new Date(), { publicKey: server.publicKey });
    expect(verified).toMatchObject({ ok: true, claims: { sub: license.id, code: 'VALID', valid: true, plan: 'open' } });
  });

  it('answers alike through the fast path and through Koa (a query string takes the Koa route)', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'pro' });
    for (const body of [{ key: license.key, fingerprint: 'none' }, { key: 'garbage' }, { key: 42 }, '{"key": ']) {
      const fast = await server.post('/v1/licenses/validate', body);
      const viaKoa = await server.post('/v1/licenses/validate?via=koa', body);
      expect(viaKoa.status).toBe(fast.status);
      const strip = (answer: Record<string, unknown>) =>
        JSON.parse(JSON.stringify(answer, (name, value: unknown) => (name === 'requestId' || name === 'token' ? undefined : value))) as unknown;
      expect(strip(viaKoa.body)).toEqual(strip(fast.body));
      expect(fast.headers.get('x-request-id')).toBeTruthy();
    }
  });

  it('accepts the key as a person types it', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    const typed = ` ${license.key.toLowerCase().replaceAll('-', ' ')} `;
    expect((await server.post('/v1/licenses/validate', { key: typed })).body).toMatchObject({ code: 'VALID' });
  });

  it('reaches every validation code', async () => {
    const server = await startTestServer();
    const seen = new Set<string>();
    const check = async (body: Record<string, unknown>, code: string) => {
      const answer = await server.post('/v1/licenses/validate', body);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ code, valid: code === 'VALID' });
      seen.add(code);
    };
    const open = await issueLicense(server.server, { planId: 'open' });
    await check({ key: open.key }, 'VALID');
    await check({ key: 'TO-1234' }, 'MALFORMED_KEY');
    await check({ key: generateKey() }, 'NOT_FOUND');
    await check({ key: open.key, product: 'another-product' }, 'PRODUCT_MISMATCH');

    const expired = await issueLicense(server.server, { planId: 'open' });
    await endPeriod(server.server, server.config.mongoUrl, server.config.mongoDb, expired);
    await check({ key: expired.key }, 'EXPIRED');

    const suspended = await issueLicense(server.server, { planId: 'open' });
    await command(server.server, suspended.id, { type: 'suspend', reason: 'abuse_hold' });
    await check({ key: suspended.key }, 'SUSPENDED');

    const revoked = await issueLicense(server.server, { planId: 'open' });
    await command(server.server, revoked.id, { type: 'revoke', reason: 'refund' });
    await check({ key: revoked.key }, 'REVOKED');

    const seats = await issueLicense(server.server, { planId: 'pro' });
    await check({ key: seats.key, fingerprint: 'never-activated' }, 'NOT_ACTIVATED');

    const web = await issueLicense(server.server, { planId: 'web' });
    await command(server.server, web.id, { type: 'activate', kind: 'domain', value: 'shop.example' });
    await check({ key: web.key, domain: 'https://www.shop.example/checkout' }, 'VALID');
    await check({ key: web.key, domain: 'copycat.example' }, 'DOMAIN_NOT_ALLOWED');

    const metered = await issueLicense(server.server, { planId: 'metered' });
    for (let i = 0; i < 5; i++) await check({ key: metered.key }, 'VALID');
    await check({ key: metered.key }, 'QUOTA_EXCEEDED');

    expect([...seen].sort()).toEqual([...VALIDATION_CODES].sort());
  });

  it('sees a revocation at once on the instance that made it', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    expect((await server.post('/v1/licenses/validate', { key: license.key })).body['code']).toBe('VALID');
    await command(server.server, license.id, { type: 'revoke', reason: 'chargeback' });
    expect((await server.post('/v1/licenses/validate', { key: license.key })).body['code']).toBe('REVOKED');
  });

  it('sees a revocation made by another instance through Redis pub/sub, well within the staleness bound', async () => {
    const first = await startTestServer({ cache: { maxStaleMs: 60_000, maxEntries: 1_000 } });
    const second = await startTestServer({ mongoDb: first.config.mongoDb, cache: { maxStaleMs: 60_000, maxEntries: 1_000 } });
    const license = await issueLicense(first.server, { planId: 'open' });
    expect((await second.post('/v1/licenses/validate', { key: license.key })).body['code']).toBe('VALID');
    await command(first.server, license.id, { type: 'suspend', reason: 'abuse_hold' });
    // Pub/sub delivery is asynchronous: poll briefly (the bound without it would be 60 s here).
    let code = '';
    for (let i = 0; i < 50 && code !== 'SUSPENDED'; i++) {
      code = String((await second.post('/v1/licenses/validate', { key: license.key })).body['code']);
      if (code !== 'SUSPENDED') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(code).toBe('SUSPENDED');
  });
});

describe('POST /v1/licenses/activate and /deactivate', () => {
  it('binds a machine, which then validates, and frees it again', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'pro' });
    const activated = await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'laptop-1', label: 'Ana’s laptop' });
    expect(activated).toMatchObject({ status: 200, body: { activated: true, alreadyActive: false, activationId: expect.stringMatching(/^act_/) } });
    expect((await server.post('/v1/licenses/validate', { key: license.key, fingerprint: 'laptop-1' })).body).toMatchObject({
      code: 'VALID',
      activationId: activated.body['activationId'],
    });
    const again = await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'laptop-1' });
    expect(again.body).toMatchObject({ activated: true, alreadyActive: true, activationId: activated.body['activationId'] });
    expect((await server.post('/v1/licenses/deactivate', { key: license.key, fingerprint: 'laptop-1' })).body).toMatchObject({ deactivated: true });
    expect((await server.post('/v1/licenses/validate', { key: license.key, fingerprint: 'laptop-1' })).body['code']).toBe('NOT_ACTIVATED');
  });

  it('refuses a seat beyond the plan with 409 ACTIVATION_LIMIT_REACHED', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'basic' });
    expect((await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'one' })).status).toBe(200);
    const refused = await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'two' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'ACTIVATION_LIMIT_REACHED', details: { limit: 1, used: 1 } } } });
  });
});
