/** Case review and reports through the admin API, as security staff use them. */
import { Job, Queue, QueueEvents } from 'bullmq';
import { describe, expect, it, onTestFinished } from 'vitest';

import { REPORT_QUEUE } from '../../../lib/abuse/report-jobs.js';
import { buildSignal } from '../../support/abuse-signals.js';
import { startCaseReviewServer } from '../../support/case-review-server.js';
import { csvObjects } from '../../support/parse-csv.js';

describe('case review routes', () => {
  it('lists cases by score with a status filter, a minimum score and a cursor', async () => {
    const api = await startCaseReviewServer();
    const ids: string[] = [];
    for (const severity of [20, 70, 45]) {
      const licenseId = await api.issue();
      ids.push(licenseId);
      await api.raise(buildSignal({ licenseId, severity, detectedAt: new Date().toISOString() }));
    }
    const first = await api.call('GET', '/v1/admin/cases?status=open&limit=2', { token: api.readToken });
    expect(first.status).toBe(200);
    expect(first.body.data.map((found: { score: number }) => found.score)).toEqual([70, 45]);
    const second = await api.call('GET', `/v1/admin/cases?status=open&limit=2&after=${first.body.nextCursor as string}`, { token: api.readToken });
    expect(second.body).toMatchObject({ data: [{ score: 20, subject: { licenseId: ids[0] } }], nextCursor: null });
    const strong = await api.call('GET', '/v1/admin/cases?minScore=40', { token: api.readToken });
    expect(strong.body.data).toHaveLength(2);
    expect((await api.call('GET', '/v1/admin/cases?status=dismissed')).body.data).toEqual([]);
  });

  it('shows a case with its timeline, score now, and signals with their evidence', async () => {
    const api = await startCaseReviewServer();
    const licenseId = await api.issue();
    const signal = buildSignal({ licenseId, evidence: { countries: [{ value: 'DE', count: 3 }] } });
    await api.raise(signal);
    const shown = await api.call('GET', `/v1/admin/cases/case_${licenseId}`, { token: api.readToken });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      id: `case_${licenseId}`,
      status: 'open',
      timeline: [{ signalId: signal.id, kind: 'velocity' }],
      signals: [{ id: signal.id, evidence: { topIps: [{ value: '203.0.113.7', count: 900 }], countries: [{ value: 'DE', count: 3 }] } }],
    });
    expect(shown.body.currentScore).toBeTypeOf('number');
  });

  it('suspends through a decision, and the license audit trail names the admin token and the reason', async () => {
    const api = await startCaseReviewServer();
    const licenseId = await api.issue();
    await api.raise(buildSignal({ licenseId }));
    const decided = await api.call('POST', `/v1/admin/cases/case_${licenseId}/decisions`, { body: { action: 'suspend', reason: 'Sold on a key forum.' } });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({
      case: { status: 'actioned', decision: { action: 'suspend', reviewer: `admin:${api.writeTokenId}`, reason: 'Sold on a key forum.' } },
      license: { id: licenseId, status: 'suspended' },
    });
    const audit = await api.call('GET', `/v1/admin/licenses/${licenseId}/audit`);
    expect(audit.body.data.at(-1)).toMatchObject({ command: 'suspend', cause: { actor: `admin:${api.writeTokenId}`, reason: 'Sold on a key forum.' } });
  });

  it('dismisses a network case', async () => {
    const api = await startCaseReviewServer();
    await api.raise(buildSignal({ kind: 'key_guessing', subject: { type: 'network', network: '203.0.113.0/24' } }));
    const [found] = (await api.call('GET', '/v1/admin/cases')).body.data as Array<{ id: string }>;
    const decided = await api.call('POST', `/v1/admin/cases/${found!.id}/decisions`, { body: { action: 'dismiss', reason: 'Our own QA network.' } });
    expect(decided.body).toMatchObject({ case: { status: 'dismissed' }, license: null });
  });
});

describe('report routes', () => {
  it('accepts a report request (202), the worker makes it, and it downloads as HTML, JSON and CSV', async () => {
    const api = await startCaseReviewServer();
    const licenseId = await api.issue();
    // Detected in the period; the case was opened now, so it is open but not new in that period.
    await api.raise(buildSignal({ licenseId, windowStart: '2026-11-01T10:00:00Z' }));
    const events = new QueueEvents(REPORT_QUEUE, { connection: api.worker.context.createRedis('test-events'), prefix: api.server.config.queuePrefix });
    onTestFinished(() => events.close());
    await events.waitUntilReady();

    const asked = await api.call('POST', '/v1/admin/reports', { body: { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' } });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: 'pending', id: expect.stringMatching(/^rpt_/) });
    expect(asked.headers.get('location')).toBe(`/v1/admin/reports/${asked.body.id as string}`);
    const id = asked.body.id as string;
    // The route queued the job under the report's id.
    const queue = new Queue(REPORT_QUEUE, { connection: api.worker.context.createRedis('test-queue'), prefix: api.server.config.queuePrefix });
    onTestFinished(() => queue.close());
    const job = await Job.fromId(queue, id);
    expect(await job?.waitUntilFinished(events, 30_000)).toBe(id);

    const meta = await api.call('GET', `/v1/admin/reports/${id}`, { token: api.readToken });
    expect(meta.body).toMatchObject({ id, status: 'ready', trigger: 'api', requestedBy: `admin:${api.writeTokenId}`, formats: ['html', 'json', 'csv'] });
    const listed = await api.call('GET', '/v1/admin/reports', { token: api.readToken });
    expect(listed.body.data.map((report: { id: string }) => report.id)).toEqual([id]);

    const html = await api.call('GET', `/v1/admin/reports/${id}?format=html`, { token: api.readToken });
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-disposition')).toBe(`attachment; filename="${id}.html"`);
    expect(html.text).toContain('<section id="new-cases">');
    const json = await api.call('GET', `/v1/admin/reports/${id}?format=json`, { token: api.readToken });
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json.body).toMatchObject({ reportId: id, summary: { signals: 1, openCases: 1 } });
    const csv = await api.call('GET', `/v1/admin/reports/${id}?format=csv`, { token: api.readToken });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="${id}.csv"`);
    expect(csvObjects(csv.text).filter(({ section }) => section === 'top_signal')).toHaveLength(1);
  });

  it('lists reports newest first, a page at a time', async () => {
    const api = await startCaseReviewServer();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api.call('POST', '/v1/admin/reports', { body: {} })).body.id as string);
    const first = await api.call('GET', '/v1/admin/reports?limit=2', { token: api.readToken });
    expect(first.body.data.map((report: { id: string }) => report.id)).toEqual([ids[2], ids[1]]);
    const second = await api.call('GET', `/v1/admin/reports?limit=2&cursor=${first.body.nextCursor as string}`, { token: api.readToken });
    expect(second.body).toMatchObject({ data: [{ id: ids[0] }], nextCursor: null });
  });

  it('describes the case and report routes in /openapi.json', async () => {
    const api = await startCaseReviewServer();
    const document = await api.call('GET', '/openapi.json', { token: null });
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining(['/v1/admin/cases', '/v1/admin/cases/{id}', '/v1/admin/cases/{id}/decisions', '/v1/admin/reports', '/v1/admin/reports/{id}']),
    );
    expect(document.body.paths['/v1/admin/cases/{id}/decisions'].post['x-scope']).toBe('write');
  });
});
