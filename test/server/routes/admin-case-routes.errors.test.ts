/** Bad requests to the case and report routes: specific errors, and nothing written half-way. */
import { describe, expect, it } from 'vitest';

import { buildSignal } from '../../support/abuse-signals.js';
import { startCaseReviewServer } from '../../support/case-review-server.js';

describe('case review routes: errors', () => {
  it('answers NOT_FOUND for an unknown case, shown or decided', async () => {
    const api = await startCaseReviewServer();
    const shown = await api.call('GET', '/v1/admin/cases/case_lic_missing');
    expect(shown.status).toBe(404);
    expect(shown.body.error).toMatchObject({ code: 'NOT_FOUND', requestId: expect.any(String) });
    const decided = await api.call('POST', '/v1/admin/cases/case_lic_missing/decisions', { body: { action: 'dismiss', reason: 'nothing here' } });
    expect(decided.status).toBe(404);
    expect((await api.call('GET', `/v1/admin/cases/${'x'.repeat(500)}`)).status).toBe(404);
  });

  it.each([
    { name: 'an unknown action', body: { action: 'ban', reason: 'no' }, path: 'action' },
    { name: 'a missing reason', body: { action: 'dismiss' }, path: 'reason' },
    { name: 'a blank reason', body: { action: 'dismiss', reason: '   ' }, path: 'reason' },
    { name: 'an unknown field', body: { action: 'dismiss', reason: 'fine', note: 'x' }, path: '(body)' },
  ])('refuses a decision with $name (INVALID_REQUEST) and leaves the case open', async ({ body, path }) => {
    const api = await startCaseReviewServer();
    const licenseId = await api.issue();
    await api.raise(buildSignal({ licenseId }));
    const answer = await api.call('POST', `/v1/admin/cases/case_${licenseId}/decisions`, { body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('INVALID_REQUEST');
    expect(answer.body.error.details.issues[0].path).toBe(path);
    expect((await api.call('GET', `/v1/admin/cases/case_${licenseId}`)).body.status).toBe('open');
  });

  it('refuses to suspend or revoke through a network case (422), and a second dismissal (409)', async () => {
    const api = await startCaseReviewServer();
    await api.raise(buildSignal({ kind: 'key_guessing', subject: { type: 'network', network: '198.51.100.0/24' } }));
    const [found] = (await api.call('GET', '/v1/admin/cases')).body.data as Array<{ id: string }>;
    const path = `/v1/admin/cases/${found!.id}/decisions`;
    const refused = await api.call('POST', path, { body: { action: 'revoke', reason: 'guessing keys' } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('NETWORK_CASE_DISMISS_ONLY');
    expect((await api.call('POST', path, { body: { action: 'dismiss', reason: 'our scanner' } })).status).toBe(200);
    const again = await api.call('POST', path, { body: { action: 'dismiss', reason: 'our scanner' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CASE_ALREADY_DISMISSED');
  });

  it('passes a lifecycle refusal through (409) and leaves the case as it was', async () => {
    const api = await startCaseReviewServer();
    const licenseId = await api.issue();
    await api.raise(buildSignal({ licenseId }));
    await api.call('POST', `/v1/admin/licenses/${licenseId}/revoke`, { body: { reason: 'refund' } });
    const answer = await api.call('POST', `/v1/admin/cases/case_${licenseId}/decisions`, { body: { action: 'suspend', reason: 'too late' } });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('LICENSE_REVOKED');
    expect((await api.call('GET', `/v1/admin/cases/case_${licenseId}`)).body).toMatchObject({ status: 'open', decision: null });
  });

  it.each([
    ['status=closed', 'status'],
    ['minScore=101', 'minScore'],
    ['limit=0', 'limit'],
    ['after=nonsense', 'after'],
    ['sort=score', '(query)'],
  ])('refuses a listing with %s', async (query, path) => {
    const api = await startCaseReviewServer();
    const answer = await api.call('GET', `/v1/admin/cases?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.issues[0].path).toBe(path);
  });
});

describe('report routes: errors', () => {
  it.each([
    { name: 'from after to', body: { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' } },
    { name: 'a period longer than 366 days', body: { from: '2024-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } },
    { name: 'a date that is not ISO 8601', body: { from: 'yesterday' } },
    { name: 'an unknown field', body: { format: 'pdf' } },
  ])('refuses a report request with $name and stores nothing', async ({ body }) => {
    const api = await startCaseReviewServer();
    const answer = await api.call('POST', '/v1/admin/reports', { body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('INVALID_REQUEST');
    expect((await api.call('GET', '/v1/admin/reports')).body.data).toEqual([]);
  });

  it('answers NOT_FOUND for an unknown report, and INVALID_REQUEST for an unknown format', async () => {
    const api = await startCaseReviewServer();
    expect((await api.call('GET', '/v1/admin/reports/rpt_nothing')).status).toBe(404);
    const asked = await api.call('POST', '/v1/admin/reports', { body: {} });
    const bad = await api.call('GET', `/v1/admin/reports/${asked.body.id as string}?format=pdf`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('format');
  });
});
