/**
 * The HTTP contract every route keeps, whatever the request:
 * - media types are case-insensitive: a JSON body is read as JSON on validate (fast path),
 *   activate and deactivate (Koa) alike, in any letter case and with parameters;
 * - every error, 404 and 405 included, is the JSON error body with a code of the closed list
 *   and the status that code maps to; a 405 carries `Allow`.
 */
import { request } from 'node:http';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { httpStatusFor } from '../../../server/http/http-status.js';
import type { AnswerCode } from '../../../server/http/api-error.js';
import { issueLicense } from '../../support/licenses.js';
import { startTestServer } from '../../support/server-fixture.js';

const CLIENT_ROUTES = ['/v1/licenses/validate', '/v1/licenses/activate', '/v1/licenses/deactivate'] as const;

/** Any request, any method, answered as status, headers and text. */
function send(url: string, method: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The error body, checked against the contract: JSON, a listed code, its own status. */
function expectErrorAnswer(answer: { status: number; headers: Record<string, string | string[] | undefined>; text: string }, code: AnswerCode): void {
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { error: { code: AnswerCode; message: string; requestId: string | null } };
  expect(body.error.code).toBe(code);
  expect(httpStatusFor(body.error.code)).toBe(answer.status);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toEqual(expect.any(String));
}

/** "application/json" with each letter's case chosen by fast-check, and optional parameters. */
const jsonContentType = fc
  .tuple(
    fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
    fc.constantFrom('', '; charset=utf-8', ';CHARSET=UTF-8', ' ; charset="utf-8"'),
    fc.constantFrom('application/json', 'application/vnd.keyward+json'),
  )
  .map(([upper, parameters, type]) => `${[...type].map((char, index) => (upper[index % upper.length] === true ? char.toUpperCase() : char)).join('')}${parameters}`);

describe('media types are case-insensitive on every client route', () => {
  it('reads a JSON body in any letter case on validate, activate and deactivate (never 415)', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'pro' });
    await fc.assert(
      fc.asyncProperty(jsonContentType, fc.constantFrom(...CLIENT_ROUTES), async (contentType, path) => {
        const answer = await send(`${server.url}${path}`, 'POST', JSON.stringify({ key: license.key, fingerprint: 'desk-1' }), { 'content-type': contentType });
        expect(answer.status).not.toBe(415);
        expect(answer.status).toBeLessThan(500);
        // The body was read: the answer concerns this license, not a missing key.
        expect(answer.text).not.toMatch(/"INVALID_REQUEST"/);
      }),
      { numRuns: 40 },
    );
  });

  it.each(CLIENT_ROUTES)('refuses a body that is not JSON on %s with 415, in any case', async (path) => {
    const server = await startTestServer();
    for (const contentType of ['text/plain', 'TEXT/PLAIN; charset=utf-8', 'Application/X-WWW-Form-Urlencoded']) {
      expectErrorAnswer(await send(`${server.url}${path}`, 'POST', 'key=TO-AAAA', { 'content-type': contentType }), 'UNSUPPORTED_MEDIA_TYPE');
    }
  });
});

describe('404 and 405 answer the JSON error body', () => {
  it.each(CLIENT_ROUTES.flatMap((path) => ['GET', 'PUT', 'DELETE', 'PATCH'].map((method) => [method, path] as const)))(
    '%s %s is 405 METHOD_NOT_ALLOWED with Allow: POST',
    async (method, path) => {
      const server = await startTestServer();
      const answer = await send(`${server.url}${path}`, method, method === 'GET' || method === 'DELETE' ? undefined : '{}', { 'content-type': 'application/json' });
      expectErrorAnswer(answer, 'METHOD_NOT_ALLOWED');
      expect(answer.headers['allow']).toBe('POST');
    },
  );

  it('answers a method the router does not know as 405 with Allow', async () => {
    const server = await startTestServer();
    const answer = await send(`${server.url}/v1/licenses/validate`, 'PROPFIND');
    expectErrorAnswer(answer, 'METHOD_NOT_ALLOWED');
    expect(answer.headers['allow']).toBe('POST');
  });

  it('answers a route that does not exist as 404 ROUTE_NOT_FOUND', async () => {
    const server = await startTestServer();
    expectErrorAnswer(await send(`${server.url}/v1/licenses/validat`, 'POST', '{}', { 'content-type': 'application/json' }), 'ROUTE_NOT_FOUND');
    expectErrorAnswer(await send(`${server.url}/nothing/here`, 'GET'), 'ROUTE_NOT_FOUND');
  });

  it('answers a malformed path encoding as a client error with a listed code, not a fault', async () => {
    const server = await startTestServer();
    const answer = await send(`${server.url}/v1/admin/licenses/%E0%A4%A`, 'GET');
    expect(answer.status).toBeLessThan(500);
    const body = JSON.parse(answer.text) as { error: { code: AnswerCode } };
    expect(httpStatusFor(body.error.code)).toBe(answer.status);
  });
});
