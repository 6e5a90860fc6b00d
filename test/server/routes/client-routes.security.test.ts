/**
 * Client routes, security: floods are turned away per IP and per key, forwarded addresses are
 * believed only from trusted proxies, and keys never reach the logs.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { issueLicense } from '../../support/licenses.js';
import { startTestServer } from '../../support/server-fixture.js';

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After once an IP has used its requests', async () => {
    const server = await startTestServer({ rateLimits: { perIpPerMinute: 5, perKeyPerMinute: 1_000 } });
    const license = await issueLicense(server.server, { planId: 'open' });
    const ip = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < 5; i++) expect((await server.post('/v1/licenses/validate', { key: license.key }, ip)).status).toBe(200);
    const limited = await server.post('/v1/licenses/validate', { key: license.key }, ip);
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED', details: { scope: 'ip' } } } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await server.post('/v1/licenses/validate', { key: license.key }, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
  });

  it('limits one key validated from many addresses', async () => {
    const server = await startTestServer({ rateLimits: { perIpPerMinute: 1_000, perKeyPerMinute: 3 } });
    const license = await issueLicense(server.server, { planId: 'open' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await server.post('/v1/licenses/validate', { key: license.key }, { 'x-forwarded-for': `198.51.100.${i}` })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const other = await issueLicense(server.server, { planId: 'open' });
    expect((await server.post('/v1/licenses/validate', { key: other.key }, { 'x-forwarded-for': '198.51.100.9' })).status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const server = await startTestServer({ trustedProxies: [], rateLimits: { perIpPerMinute: 3, perKeyPerMinute: 1_000 } });
    const license = await issueLicense(server.server, { planId: 'open' });
    // Spoofed addresses all count against the real peer, 127.0.0.1 — but 127.0.0.1 is shared
    // with other test files, so count only this test's answers.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await server.post('/v1/licenses/validate', { key: license.key }, { 'x-forwarded-for': `192.0.2.${i}` })).status);
    }
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(3);
  });
});

describe('logs', () => {
  it('never contain a key, whatever the request', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const server = await startTestServer({}, { logger: pino({ level: 'trace' }, sink) });
    const license = await issueLicense(server.server, { planId: 'pro' });
    await server.post('/v1/licenses/validate', { key: license.key, fingerprint: 'm1' });
    await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'm1' });
    await server.post('/v1/licenses/activate', { key: license.key.toLowerCase(), domain: 'not-allowed.example' });
    await server.post('/v1/licenses/validate', `{"key": "${license.key}", `);
    await server.post('/v1/licenses/validate', { key: license.key, padding: 'x'.repeat(40_000) });
    await server.stop();
    const log = lines.join('');
    expect(log.length).toBeGreaterThan(0);
    for (const form of [license.key, license.key.toLowerCase(), license.key.replaceAll('-', '')]) expect(log).not.toContain(form);
    expect(log).not.toContain(license.key.slice(-9));
  });
});
