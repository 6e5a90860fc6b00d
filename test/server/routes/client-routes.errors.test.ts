/**
 * Client routes, bad input: every request that is not a request gets its status and code, and
 * nothing is written — no license change, no event.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import { issueLicense } from '../../support/licenses.js';
import { startTestServer, type TestServer } from '../../support/server-fixture.js';
import { redisUrl } from '../../setup/services.js';

async function eventCount(server: TestServer): Promise<number> {
  await server.server.flushEvents();
  const redis = new Redis(redisUrl());
  try {
    const lengths = await Promise.all(allStreamKeys(server.config.events.partitions, server.config.events.streamPrefix).map((key) => redis.xlen(key)));
    return lengths.reduce((sum, n) => sum + n, 0);
  } finally {
    await redis.quit();
  }
}

const huge = { key: 'TO-AAAA-AAAA-AAAA-AAAA', fingerprint: 'x'.repeat(200), padding: 'y'.repeat(20_000) };

describe.each(['/v1/licenses/validate', '/v1/licenses/activate', '/v1/licenses/deactivate'])('POST %s with bad input', (path) => {
  const table: Array<[string, unknown, Record<string, string> | undefined, number, string]> = [
    ['invalid JSON', '{"key": "TO-', undefined, 400, 'INVALID_JSON'],
    ['a JSON array', '[1,2,3]', undefined, 400, 'INVALID_REQUEST'],
    ['no key', { fingerprint: 'abc' }, undefined, 400, 'INVALID_REQUEST'],
    ['a key that is a number', { key: 12345, fingerprint: 'abc' }, undefined, 400, 'INVALID_REQUEST'],
    ['a key that is an object', { key: { $ne: null }, fingerprint: 'abc' }, undefined, 400, 'INVALID_REQUEST'],
    ['an empty key', { key: '', fingerprint: 'abc' }, undefined, 400, 'INVALID_REQUEST'],
    ['a fingerprint that is too long', { key: 'TO-AAAA', fingerprint: 'f'.repeat(300) }, undefined, 400, 'INVALID_REQUEST'],
    ['a huge body', huge, undefined, 413, 'PAYLOAD_TOO_LARGE'],
    ['a form body', 'key=TO-AAAA', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ];

  it.each(table)('%s: answered with its status and code, nothing written', async (_name, body, headers, status, code) => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'pro' });
    const before = await server.server.keyward.licenses.get(license.id);
    const answer = await server.post(path, body, headers);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ error: { code, message: expect.any(String), requestId: expect.any(String) } });
    expect(answer.headers.get('x-request-id')).toBe((answer.body['error'] as { requestId: string }).requestId);
    expect((await server.server.keyward.licenses.get(license.id))?.license.version).toBe(before?.license.version);
    expect(await eventCount(server)).toBe(0);
  });
});

describe('POST /v1/licenses/validate with keys that are not keys', () => {
  it.each([
    ['garbage', 'hello world', 'UNKNOWN_PREFIX'],
    ['a typo', null, 'BAD_CHECK_CHARACTER'],
    ['too short', 'TO-AAAA-BBBB', 'BAD_LENGTH'],
    ['a letter U', 'TO-AAAA-BBBB-CCCC-DDDU', 'BAD_CHARACTER'],
    ['10 kB of text', 'A'.repeat(1000), 'BAD_LENGTH'],
  ])('%s → 200 MALFORMED_KEY (%s), recorded as an event', async (_name, given, reason) => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    const key = given ?? `${license.key.slice(0, -1)}${license.key.endsWith('0') ? '1' : '0'}`;
    const answer = await server.post('/v1/licenses/validate', { key });
    expect(answer).toMatchObject({ status: 200, body: { valid: false, code: 'MALFORMED_KEY' } });
    expect(String(answer.body['message']).length).toBeGreaterThan(10);
    expect(server.server.keyward.validation.prepare(key).parsed).toMatchObject({ ok: false, error: { reason } });
    expect(await eventCount(server)).toBe(1);
  });
});

describe('refusals of activation', () => {
  it('answers 404 NOT_FOUND for a well-formed key without a license', async () => {
    const server = await startTestServer();
    const { generateKey } = await import('../../../lib/keys/generate-key.js');
    expect(await server.post('/v1/licenses/activate', { key: generateKey(), fingerprint: 'm' })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
  });

  it('answers 400 MALFORMED_KEY for a malformed key', async () => {
    const server = await startTestServer();
    expect(await server.post('/v1/licenses/activate', { key: 'nope', fingerprint: 'm' })).toMatchObject({
      status: 400,
      body: { error: { code: 'MALFORMED_KEY' } },
    });
  });

  it('answers 400 when both a fingerprint and a domain are given', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'pro' });
    expect(await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'm', domain: 'a.example' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST' } },
    });
  });

  it('answers 409 LICENSE_REVOKED for a revoked key and 409 BINDING_NOT_ALLOWED for a domain on a machine plan', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'pro' });
    expect((await server.post('/v1/licenses/activate', { key: license.key, domain: 'a.example' })).body).toMatchObject({ error: { code: 'BINDING_NOT_ALLOWED' } });
    await server.server.keyward.licenses.apply(license.id, { type: 'revoke', reason: 'manual' });
    expect(await server.post('/v1/licenses/activate', { key: license.key, fingerprint: 'm' })).toMatchObject({ status: 409, body: { error: { code: 'LICENSE_REVOKED' } } });
  });
});

describe('unknown routes', () => {
  it('answer 404 ROUTE_NOT_FOUND in the error format', async () => {
    const server = await startTestServer();
    const response = await fetch(`${server.url}/v1/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });
});
