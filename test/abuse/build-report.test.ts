/** Building and rendering reports: summary, day series, trial-cycling clusters, CSV and HTML. */
import { describe, expect, it } from 'vitest';

import { buildReport, clusterTrialLinks } from '../../lib/abuse/build-report.js';
import { REPORT_CSV_COLUMNS, renderReportCsv } from '../../lib/abuse/report-csv.js';
import { renderReportHtml } from '../../lib/abuse/report-html.js';
import { csvObjects, parseCsv } from '../support/parse-csv.js';
import { sampleReportInput } from '../support/report-input.js';

const NOW = new Date('2026-11-02T05:00:00Z');

describe('buildReport', () => {
  it('counts new and open cases, signals and key actions', () => {
    const report = buildReport('rpt_daily_2026-11-01', sampleReportInput(), NOW);
    expect(report.summary).toEqual({ newCases: 2, openCases: 1, signals: 5, keysSuspended: 1, keysRevoked: 0, trialCyclingClusters: 2 });
    expect(report.signalsByKind.map(({ kind }) => kind)).toEqual(['velocity', 'trial_cycling']);
  });

  it('fills every day of the period, with zeros where nothing happened', () => {
    const input = sampleReportInput({ from: new Date('2026-10-30T00:00:00Z'), signalsByDay: [{ day: '2026-10-31', count: 4 }] });
    expect(buildReport('rpt_x', input, NOW).signalsByDay).toEqual([
      { day: '2026-10-30', count: 0 },
      { day: '2026-10-31', count: 4 },
      { day: '2026-11-01', count: 0 },
    ]);
  });
});

describe('clusterTrialLinks', () => {
  it('joins trials linked through each other into one cluster, and keeps unrelated ones apart', () => {
    expect(clusterTrialLinks(sampleReportInput().trialLinks)).toEqual([
      { customers: ['cus_1', 'cus_2'], licenses: ['lic_t1', 'lic_t2', 'lic_t3'], sharedBy: ['card', 'email'], signals: 2 },
      { customers: ['cus_9'], licenses: ['lic_x1', 'lic_x2'], sharedBy: ['ip'], signals: 1 },
    ]);
  });

  it('makes no cluster of a signal without linked customers', () => {
    expect(clusterTrialLinks([{ signalId: 's', licenseId: 'lic_1', linkedCustomers: [] }])).toEqual([]);
  });
});

describe('renderReportCsv', () => {
  it('is one RFC 4180 table with a section column, quoting and formula guards where needed', () => {
    const csv = renderReportCsv(buildReport('rpt_x', sampleReportInput(), NOW));
    expect(parseCsv(csv)[0]).toEqual([...REPORT_CSV_COLUMNS]);
    const rows = csvObjects(csv);
    expect(rows.map(({ section }) => section)).toEqual([
      'new_case', 'new_case', 'open_case', 'signal_kind', 'signal_kind', 'top_signal', 'key_action', 'trial_cluster', 'trial_cluster',
    ]);
    const action = rows.find(({ section }) => section === 'key_action');
    expect(action).toMatchObject({ subject: 'lic_b', kind: 'suspend', status: 'admin:alice', detail: '<script>alert("x")</script>, "resold", =cmd' });
    const guarded = renderReportCsv(buildReport('rpt_x', sampleReportInput({ keyActions: [{ ...sampleReportInput().keyActions[0]!, reason: '=HYPERLINK("x")' }] }), NOW));
    expect(csvObjects(guarded).find(({ section }) => section === 'key_action')?.['detail']).toBe(`'=HYPERLINK("x")`);
  });
});

describe('renderReportHtml', () => {
  const html = renderReportHtml(buildReport('rpt_x', sampleReportInput(), NOW));

  it('escapes every value it shows', () => {
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('is self-contained: no scripts, no external references, a CSP that forbids them', () => {
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
    expect(html).toContain(`default-src 'none'`);
  });

  it('has each section and its charts', () => {
    for (const id of ['signals', 'new-cases', 'open-cases', 'top-signals', 'keys-suspended', 'trial-cycling']) expect(html).toContain(`<section id="${id}">`);
    expect(html.match(/<svg /g)).toHaveLength(3);
  });
});
