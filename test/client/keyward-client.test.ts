/**
 * keyward/client against the real server: online answers checked against the published keys,
 * offline answers from the cached token within its grace and never past it, a tampered or
 * copied cache refused with its reason, 429s honoured, floating seats kept by heartbeats.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { createKeywardClient, type ClientJwks, type KeywardClientOptions } from '../../lib/client/index.js';
import { command, issueLicense } from '../support/licenses.js';
import { startTestServer, type TestServer } from '../support/server-fixture.js';

const TTL_SECONDS = 3_600;
const PRODUCT = 'default';

function cachePath(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'keyward-client-')), 'license-token.json');
}

async function jwksOf(server: TestServer): Promise<ClientJwks> {
  return (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as ClientJwks;
}

/** A client of this server that never really waits: its waits are recorded. */
function clientFor(server: TestServer, options: Partial<KeywardClientOptions> = {}) {
  const sleeps: number[] = [];
  const client = createKeywardClient({
    serverUrl: server.url,
    product: PRODUCT,
    fingerprint: 'machine-a',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
  return { client, sleeps };
}

async function setUp(planId = 'pro', overrides: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer({ signing: { privateKey: (await import('../../lib/tokens/validation-token.js')).generateTokenKeyPair().privateKey, keyId: 'k1', ttlSeconds: TTL_SECONDS }, ...overrides });
  const license = await issueLicense(server.server, { planId });
  const jwks = await jwksOf(server);
  return { server, license, jwks, cacheFile: cachePath() };
}

describe('keyward/client online', () => {
  it('activates, then validates with a token checked against the fetched keys, and caches it', async () => {
    const { server, license, cacheFile } = await setUp();
    const { client } = clientFor(server, { cacheFile });

    expect(await client.activate(license.key, { label: 'Ada’s laptop' })).toMatchObject({ ok: true, alreadyActive: false, activationId: expect.stringMatching(/^act_/) });
    const result = await client.validate(license.key);

    expect(result).toMatchObject({ ok: true, valid: true, code: 'VALID', source: 'server', claims: { sub: license.id, aud: PRODUCT, fingerprint: 'machine-a' } });
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toMatchObject({ version: 1, token: result.ok ? result.token : '' });
    expect(readFileSync(cacheFile, 'utf8')).not.toContain(license.key);
  });

  it('answers a refusal as data with the server’s closed code, and forgets the cached token', async () => {
    const { server, license, jwks, cacheFile } = await setUp();
    const { client } = clientFor(server, { cacheFile, jwks });
    await client.activate(license.key);
    expect(await client.validate(license.key)).toMatchObject({ ok: true, valid: true });

    await command(server.server, license.id, { type: 'revoke', reason: 'refund' });
    expect(await client.validate(license.key)).toMatchObject({ ok: true, valid: false, code: 'REVOKED', source: 'server' });

    await server.stop();
    expect(await client.validate(license.key)).toMatchObject({ ok: false, reason: 'OFFLINE_NO_CACHE' });
  });

  it('refuses a validation for another machine and a request the server refuses, with their codes', async () => {
    const { server, license } = await setUp('basic');
    const a = clientFor(server).client;
    const b = clientFor(server, { fingerprint: 'machine-b' }).client;

    expect(await a.activate(license.key)).toMatchObject({ ok: true });
    expect(await b.activate(license.key)).toMatchObject({ ok: false, reason: 'REQUEST_REFUSED', status: 409, code: 'ACTIVATION_LIMIT_REACHED' });
    expect(await b.validate(license.key)).toMatchObject({ ok: true, valid: false, code: 'NOT_ACTIVATED' });
    expect(await a.deactivate(license.key)).toEqual({ ok: true });
    expect(await b.activate(license.key)).toMatchObject({ ok: true });
  });
});

describe('keyward/client offline (server stopped)', () => {
  it('answers from the cached token within its grace, and refuses at and past its exp', async () => {
    const { server, license, jwks, cacheFile } = await setUp();
    const online = clientFor(server, { cacheFile, jwks }).client;
    await online.activate(license.key);
    const first = await online.validate(license.key);
    if (!first.ok) throw new Error(first.reason);
    const exp = first.claims.exp * 1000;
    await server.stop();

    const at = (ms: number) => clientFor(server, { cacheFile, jwks, clock: () => new Date(ms) }).client;
    expect(await at(exp - 1_000).validate(license.key)).toMatchObject({ ok: true, valid: true, code: 'VALID', source: 'cache', offlineUntil: new Date(exp) });
    expect(await at(exp).validate(license.key)).toMatchObject({ ok: false, reason: 'TOKEN_EXPIRED' });
    expect(await at(exp + TTL_SECONDS * 1000).validate(license.key)).toMatchObject({ ok: false, reason: 'TOKEN_EXPIRED' });
  });

  it('refuses a tampered cache file (BAD_SIGNATURE), one copied from another machine (WRONG_MACHINE) or product (WRONG_PRODUCT), and one for another key', async () => {
    const { server, license, jwks, cacheFile } = await setUp();
    const online = clientFor(server, { cacheFile, jwks }).client;
    await online.activate(license.key);
    expect(await online.validate(license.key)).toMatchObject({ ok: true });
    const original = readFileSync(cacheFile, 'utf8');
    await server.stop();

    const content = JSON.parse(original) as { token: string };
    const [header, claims, signature] = content.token.split('.') as [string, string, string];
    const longer = { ...(JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>), exp: 4_102_444_800 };
    writeFileSync(cacheFile, JSON.stringify({ ...content, token: `${header}.${Buffer.from(JSON.stringify(longer)).toString('base64url')}.${signature}` }));
    expect(await clientFor(server, { cacheFile, jwks }).client.validate(license.key)).toMatchObject({ ok: false, reason: 'BAD_SIGNATURE' });

    writeFileSync(cacheFile, original);
    expect(await clientFor(server, { cacheFile, jwks, fingerprint: 'machine-b' }).client.validate(license.key)).toMatchObject({ ok: false, reason: 'WRONG_MACHINE' });
    expect(await clientFor(server, { cacheFile, jwks, product: 'other-product' }).client.validate(license.key)).toMatchObject({ ok: false, reason: 'WRONG_PRODUCT' });
    expect(await clientFor(server, { cacheFile, jwks }).client.validate('TO-0000-0000-0000-0000')).toMatchObject({ ok: false, reason: 'OFFLINE_NO_CACHE' });

    writeFileSync(cacheFile, '{"version":1,');
    expect(await clientFor(server, { cacheFile, jwks }).client.validate(license.key)).toMatchObject({ ok: false, reason: 'OFFLINE_NO_CACHE' });
  });

  it('needs pinned keys (or keys fetched by this process) to answer offline', async () => {
    const { server, license, cacheFile } = await setUp();
    const online = clientFor(server, { cacheFile }).client; // keys fetched, not pinned
    await online.activate(license.key);
    expect(await online.validate(license.key)).toMatchObject({ ok: true, source: 'server' });
    await server.stop();

    expect(await online.validate(license.key)).toMatchObject({ ok: true, source: 'cache' });
    expect(await clientFor(server, { cacheFile }).client.validate(license.key)).toMatchObject({ ok: false, reason: 'OFFLINE_NO_KEYS' });
  });

  it('retries an unreachable server with growing, jittered waits before answering from the cache', async () => {
    const { server, license, jwks, cacheFile } = await setUp();
    const { client, sleeps } = clientFor(server, { cacheFile, jwks, retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 } });
    await client.activate(license.key);
    await client.validate(license.key);
    sleeps.length = 0;
    await server.stop();

    expect(await client.validate(license.key)).toMatchObject({ ok: true, source: 'cache' });
    expect(sleeps).toEqual([50, 100, 150]); // random() = 0.5 of min(300, 100 * 2^n)
  });
});

describe('keyward/client and 429', () => {
  it('honours Retry-After from the real rate limiter, then answers from the cache', async () => {
    const { server, license, jwks, cacheFile } = await setUp('pro', { rateLimits: { perIpPerMinute: 100_000, perKeyPerMinute: 3 } });
    const { client, sleeps } = clientFor(server, { cacheFile, jwks, retry: { attempts: 3, maxRetryAfterMs: 120_000 } });
    await client.activate(license.key); // 1 of 3
    expect(await client.validate(license.key)).toMatchObject({ source: 'server' }); // 2 of 3
    expect(await client.validate(license.key)).toMatchObject({ source: 'server' }); // 3 of 3

    const limited = await client.validate(license.key);
    expect(limited).toMatchObject({ ok: true, valid: true, source: 'cache' });
    expect(sleeps).toHaveLength(2);
    for (const wait of sleeps) expect(wait).toBeGreaterThanOrEqual(1_000); // at least the Retry-After seconds
  });

  it('does not wait longer than allowed: a Retry-After beyond maxRetryAfterMs answers at once', async () => {
    const { server, license } = await setUp('open', { rateLimits: { perIpPerMinute: 100_000, perKeyPerMinute: 1 } });
    const { client, sleeps } = clientFor(server, { retry: { attempts: 5, maxRetryAfterMs: 500 } });
    expect(await client.validate(license.key)).toMatchObject({ ok: true, source: 'server' });

    expect(await client.validate(license.key)).toMatchObject({ ok: false, reason: 'RATE_LIMITED', status: 429, retryAfterSeconds: expect.any(Number) });
    expect(sleeps).toEqual([]);
  });
});

describe('keyward/client and floating seats', () => {
  it('checks a seat out, keeps it with heartbeats (each a fresh, checked answer), and is refused a heartbeat on fixed seats', async () => {
    const { server, license, jwks, cacheFile } = await setUp('floating');
    const { client } = clientFor(server, { cacheFile, jwks });

    const checkedOut = await client.activate(license.key);
    expect(checkedOut).toMatchObject({ ok: true, heartbeatSeconds: 60, leaseExpiresAt: expect.any(Date) });
    const beat = await client.heartbeat(license.key);
    expect(beat).toMatchObject({ ok: true, valid: true, code: 'VALID', source: 'server', leaseExpiresAt: expect.any(Date) });
    if (!beat.ok || beat.leaseExpiresAt === undefined) throw new Error('no lease');
    // Offline grace of a floating seat ends with its lease.
    expect(beat.offlineUntil.getTime()).toBe(Math.floor(beat.leaseExpiresAt.getTime() / 1000) * 1000);

    const fixed = await setUp('pro');
    const fixedClient = clientFor(fixed.server).client;
    await fixedClient.activate(fixed.license.key);
    expect(await fixedClient.heartbeat(fixed.license.key)).toMatchObject({ ok: false, reason: 'REQUEST_REFUSED', status: 409, code: 'NOT_FLOATING' });
  });
});
