/**
 * Published keys: `/.well-known/jwks.json` over HTTP, read by a verifier that is not ours
 * (`jose`), against tokens the real server signed; and a key rotation end to end.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';

import { generateTokenKeyPair } from '../../../lib/tokens/validation-token.js';
import { parseServerConfig } from '../../../server/config.js';
import { issueLicense } from '../../support/licenses.js';
import { startTestServer, type TestServer } from '../../support/server-fixture.js';

const TTL_SECONDS = 3_600;

async function tokenFrom(server: TestServer, body: Record<string, unknown>): Promise<string> {
  const answer = await server.post('/v1/licenses/validate', body);
  expect(answer.body).toMatchObject({ code: 'VALID' });
  return String(answer.body['token']);
}

async function jwksOf(server: TestServer): Promise<{ headers: Headers; body: JSONWebKeySet }> {
  const response = await fetch(`${server.url}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return { headers: response.headers, body: (await response.json()) as JSONWebKeySet };
}

describe('GET /.well-known/jwks.json', () => {
  it('publishes the signing key as an Ed25519 JWK, cacheable, and jose verifies a real token with it', async () => {
    const server = await startTestServer({ signing: { privateKey: generateTokenKeyPair().privateKey, keyId: 'k1', ttlSeconds: TTL_SECONDS } });
    const license = await issueLicense(server.server, { planId: 'pro' });
    await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'machine-a' });
    const token = await tokenFrom(server, { key: license.key, fingerprint: 'machine-a', product: 'default' });

    const { headers, body } = await jwksOf(server);
    expect(headers.get('cache-control')).toBe('public, max-age=300');
    expect(headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    expect(body.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: 'k1', alg: 'EdDSA', use: 'sig' }]);

    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), {
      issuer: 'keyward',
      audience: 'default',
    });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' });
    expect(payload).toMatchObject({ iss: 'keyward', aud: 'default', sub: license.id, fingerprint: 'machine-a', code: 'VALID', valid: true });
    expect(payload.exp! - payload.iat!).toBe(TTL_SECONDS);
  });

  it('is public and described in /openapi.json, with the heartbeat route', async () => {
    const server = await startTestServer();
    const openApi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openApi.paths)).toEqual(expect.arrayContaining(['/.well-known/jwks.json', '/v1/licenses/heartbeat']));
  });
});

describe('key rotation, end to end', () => {
  it('publishes the next key ahead, then signs with it while tokens of the old key verify until they expire, and refuses the old key past its window', async () => {
    const k1 = generateTokenKeyPair();
    const k2 = generateTokenKeyPair();
    const verifyWith = async (jwks: JSONWebKeySet, token: string, currentDate = new Date()) =>
      jwtVerify(token, createLocalJWKSet(jwks), { issuer: 'keyward', currentDate });

    // Step 1: k1 signs; k2 is published as next, so clients fetch it before it signs anything.
    const before = await startTestServer({
      signing: { privateKey: k1.privateKey, keyId: 'k1', ttlSeconds: TTL_SECONDS, others: [{ kid: 'k2', state: 'next', publicKey: k2.publicKey }] },
    });
    const oldLicense = await issueLicense(before.server, { planId: 'open' });
    const oldToken = await tokenFrom(before, { key: oldLicense.key });
    expect(decodeProtectedHeader(oldToken).kid).toBe('k1');
    expect((await jwksOf(before)).body.keys.map((key) => key.kid)).toEqual(['k1', 'k2']);
    const oldExp = (await verifyWith((await jwksOf(before)).body, oldToken)).payload.exp as number;
    await before.stop();

    // Step 2: the switch: k2 signs; k1 is retired, published until every token it signed expired.
    const switchedAt = Date.now();
    const after = await startTestServer({
      signing: {
        privateKey: k2.privateKey,
        keyId: 'k2',
        ttlSeconds: TTL_SECONDS,
        others: [{ kid: 'k1', state: 'retired', publicKey: k1.publicKey, validUntil: new Date(switchedAt + TTL_SECONDS * 1000) }],
      },
    });
    const newLicense = await issueLicense(after.server, { planId: 'open' });
    const newToken = await tokenFrom(after, { key: newLicense.key });
    expect(decodeProtectedHeader(newToken).kid).toBe('k2');
    const published = (await jwksOf(after)).body;
    expect(published.keys.map((key) => key.kid)).toEqual(['k2', 'k1']);
    await expect(verifyWith(published, newToken)).resolves.toMatchObject({ payload: { sub: newLicense.id } });
    await expect(verifyWith(published, oldToken)).resolves.toMatchObject({ payload: { sub: oldLicense.id } });
    // The old token is good until its own exp, and not after.
    await expect(verifyWith(published, oldToken, new Date((oldExp - 1) * 1000))).resolves.toBeDefined();
    await expect(verifyWith(published, oldToken, new Date((oldExp + 1) * 1000))).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });

    // Step 3: past the retired key's window it is no longer published, and its tokens are refused.
    const later = await startTestServer({
      signing: {
        privateKey: k2.privateKey,
        keyId: 'k2',
        ttlSeconds: TTL_SECONDS,
        others: [{ kid: 'k1', state: 'retired', publicKey: k1.publicKey, validUntil: new Date(switchedAt - 1_000) }],
      },
    });
    const pruned = (await jwksOf(later)).body;
    expect(pruned.keys.map((key) => key.kid)).toEqual(['k2']);
    await expect(verifyWith(pruned, oldToken)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('reads the key set from KEYWARD_SIGNING_KEYS beside KEYWARD_SIGNING_KEY, base64 keys included', () => {
    const current = generateTokenKeyPair();
    const retired = generateTokenKeyPair();
    const config = parseServerConfig(
      {
        REDIS_URL: 'redis://127.0.0.1:6379',
        MONGODB_URL: 'mongodb://127.0.0.1:27017',
        KEYWARD_DIGEST_SECRET: 'digest-secret-for-the-server-config-tests-0123456789',
        KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
        KEYWARD_SIGNING_KEY: Buffer.from(current.privateKey).toString('base64'),
        KEYWARD_SIGNING_KEY_ID: 'k2',
        KEYWARD_SIGNING_KEYS: JSON.stringify([{ kid: 'k1', state: 'retired', publicKey: Buffer.from(retired.publicKey).toString('base64'), validUntil: '2030-01-01T00:00:00Z' }]),
      },
      process.cwd(),
    );
    expect(config.signing).toMatchObject({ keyId: 'k2', others: [{ kid: 'k1', state: 'retired', validUntil: new Date('2030-01-01T00:00:00Z') }] });
    expect(() =>
      parseServerConfig(
        {
          REDIS_URL: 'redis://127.0.0.1:6379',
          MONGODB_URL: 'mongodb://127.0.0.1:27017',
          KEYWARD_DIGEST_SECRET: 'digest-secret-for-the-server-config-tests-0123456789',
          KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
          KEYWARD_SIGNING_KEY: current.privateKey,
          KEYWARD_SIGNING_KEYS: '[{"kid":"k1","state":"retired","publicKey":"AAAA"}]',
        },
        process.cwd(),
      ),
    ).toThrow(/KEYWARD_SIGNING_KEYS\[0\]\.publicKey/);
  });
});
