/** Who may use the case and report routes, and what downloads may carry. */
import { describe, expect, it } from 'vitest';

import { ReportService } from '../../../lib/service/report-service.js';
import { MongoReportStore } from '../../../lib/store/mongo-report-store.js';
import { buildSignal } from '../../support/abuse-signals.js';
import { startCaseReviewServer } from '../../support/case-review-server.js';

const ROUTES: Array<{ method: string; path: string; scope: 'read' | 'write'; body?: unknown }> = [
  { method: 'GET', path: '/v1/admin/cases', scope: 'read' },
  { method: 'GET', path: '/v1/admin/cases/case_lic_x', scope: 'read' },
  { method: 'POST', path: '/v1/admin/cases/case_lic_x/decisions', scope: 'write', body: { action: 'dismiss', reason: 'looks fine' } },
  { method: 'POST', path: '/v1/admin/reports', scope: 'write', body: {} },
  { method: 'GET', path: '/v1/admin/reports', scope: 'read' },
  { method: 'GET', path: '/v1/admin/reports/rpt_x?format=html', scope: 'read' },
];

describe('case and report routes: security', () => {
  it.each(ROUTES)('$method $path needs an admin token', async ({ method, path, body }) => {
    const api = await startCaseReviewServer();
    const answer = await api.call(method, path, { token: null, ...(body === undefined ? {} : { body }) });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('UNAUTHORIZED');
    expect(answer.headers.get('www-authenticate')).toContain('Bearer');
    const forged = await api.call(method, path, { token: `kwa_tok_${'0'.repeat(26)}_${'A'.repeat(43)}`, ...(body === undefined ? {} : { body }) });
    expect(forged.status).toBe(401);
  });

  it.each(ROUTES.filter(({ scope }) => scope === 'write'))('$method $path refuses a read-only token (403) and writes nothing', async ({ method, path, body }) => {
    const api = await startCaseReviewServer();
    const answer = await api.call(method, path, { token: api.readToken, body });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('FORBIDDEN');
    expect((await api.call('GET', '/v1/admin/reports')).body.data).toEqual([]);
  });

  it('lets a read token list and show cases but not decide them', async () => {
    const api = await startCaseReviewServer();
    const licenseId = await api.issue();
    await api.raise(buildSignal({ licenseId }));
    expect((await api.call('GET', `/v1/admin/cases/case_${licenseId}`, { token: api.readToken })).status).toBe(200);
    const decided = await api.call('POST', `/v1/admin/cases/case_${licenseId}/decisions`, { token: api.readToken, body: { action: 'revoke', reason: 'nope' } });
    expect(decided.status).toBe(403);
    expect((await api.server.server.keyward.licenses.get(licenseId))?.license.status).toBe('active');
  });

  it('serves report downloads as attachments that browsers may not sniff or script', async () => {
    const api = await startCaseReviewServer();
    const asked = await api.call('POST', '/v1/admin/reports', { body: {} });
    const id = asked.body.id as string;
    const reports = api.worker.context.db.collection('abuse_reports');
    // Made here rather than waiting for the worker: the headers are the route's.
    await new ReportService({ db: api.worker.context.db, reports: new MongoReportStore({ db: api.worker.context.db }) }).generate(id);
    expect(await reports.countDocuments({ _id: id as never, status: 'ready' })).toBe(1);
    const html = await api.call('GET', `/v1/admin/reports/${id}?format=html`);
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect(html.text).not.toMatch(/<script/i);
  });

  it('answers REPORT_NOT_READY for a download of a pending report', async () => {
    const api = await startCaseReviewServer();
    await api.worker.stop();
    const asked = await api.call('POST', '/v1/admin/reports', { body: {} });
    const answer = await api.call('GET', `/v1/admin/reports/${asked.body.id as string}?format=csv`);
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: 'REPORT_NOT_READY', details: { status: 'pending' } });
  });
});
