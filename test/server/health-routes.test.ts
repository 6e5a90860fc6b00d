/** Operations routes: liveness, readiness, metrics and the OpenAPI document. */
import { describe, expect, it } from 'vitest';

import { startRedisServer } from '../../embedded/redis-server.js';
import { generateKey } from '../../lib/keys/generate-key.js';
import { startTestServer } from '../support/server-fixture.js';

describe('operations routes: happy path', () => {
  it('GET /healthz answers 200 ok', async () => {
    const { url } = await startTestServer();
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when Redis and MongoDB both answer', async () => {
    const { url } = await startTestServer();
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: { redis: 'ok', mongo: 'ok' } });
  });

  it('GET /metrics exposes validation counts and event-sink counters in Prometheus text', async () => {
    const server = await startTestServer();
    await server.post('/v1/licenses/validate', { key: generateKey() });
    const response = await fetch(`${server.url}/metrics`);
    const text = await response.text();
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(/keyward_validations_total\{code="NOT_FOUND"\} 1/);
    expect(text).toContain('keyward_events_dropped_total');
    expect(text).toContain('keyward_http_request_duration_seconds_bucket');
  });

  it('GET /openapi.json describes every route the server answers', async () => {
    const { url } = await startTestServer();
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    for (const path of ['/v1/licenses/validate', '/v1/licenses/activate', '/v1/licenses/deactivate', '/healthz', '/readyz', '/metrics']) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    const validate = document.paths['/v1/licenses/validate'] as { post: { requestBody: { content: { 'application/json': { schema: { required: string[] } } } } } };
    expect(validate.post.requestBody.content['application/json'].schema.required).toEqual(['key']);
  });
});

describe('operations routes: a data store is down', () => {
  it('GET /readyz answers 503 naming Redis when its server has stopped', async () => {
    const doomed = await startRedisServer();
    const { url } = await startTestServer({ redisUrl: doomed.url });
    await doomed.stop();
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', checks: { redis: 'failed', mongo: 'ok' }, failed: ['redis'] });
  });
});
