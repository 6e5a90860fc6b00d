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

describe('HTML, JSON and CSV agree', () => {
  it('show the same cases with the same key, plan, customer, reason, link and command', () => {
    const input = sampleReportInput({
      licenses: [{ licenseId: 'lic_a', keyMask: 'TO-****-****-****-E05Q', planId: 'pro', status: 'active', customerId: 'cus_7', email: 'ada@example.com' }],
    });
    const report = buildReport('rpt_x', input, NOW);
    const json = JSON.parse(JSON.stringify(report)) as { newCases: Array<{ id: string; license: { keyMask: string } | null; reasons: string[]; reviewUrl: string; decideCommand: string }> };
    const rows = csvObjects(renderReportCsv(report)).filter(({ section }) => section === 'new_case');
    const page = renderReportHtml(report);
    expect(rows.map(({ id }) => id)).toEqual(json.newCases.map(({ id }) => id));
    for (const [i, found] of json.newCases.entries()) {
      const row = rows[i]!;
      expect(row['key_mask']).toBe(found.license?.keyMask ?? '');
      expect(row['reason']).toBe(found.reasons.join('; '));
      expect(row['review_url']).toBe(found.reviewUrl);
      expect(row['decide_command']).toBe(found.decideCommand);
      expect(page).toContain(`href="${found.reviewUrl}"`);
      for (const reason of found.reasons) expect(page).toContain(reason.replaceAll('"', '&quot;'));
      if (found.license) expect(page).toContain(found.license.keyMask);
    }
  });
});

describe('renderReportHtml', () => {
  const html = renderReportHtml(buildReport('rpt_x', sampleReportInput(), NOW));

  it('escapes every value it shows', () => {
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('is self-contained: no scripts, no external references, a CSP that forbids them; its only links are console case pages', () => {
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect([...html.matchAll(/href="([^"]*)"/g)].map(([, url]) => url)).toEqual(['/console/cases/case_lic_a', '/console/cases/case_net_1', '/console/cases/case_lic_a']);
    expect(html).toContain(`default-src 'none'`);
  });

  it('says per case whose key it is, why in plain words, when in UTC words, and what to do next', () => {
    const input = sampleReportInput({
      licenses: [{ licenseId: 'lic_a', keyMask: 'TO-****-****-****-E05Q', planId: 'pro', status: 'active', customerId: 'cus_7', email: 'ada@example.com' }],
    });
    const page = renderReportHtml(buildReport('rpt_x', input, NOW, { consoleBaseUrl: 'https://keys.example.com/' }));
    expect(page).toContain('<b>TO-****-****-****-E05Q</b> <span class="muted">(plan pro, active)</span>');
    expect(page).toContain('cus_7 · ada@example.com');
    expect(page).toContain('<li>1,800 validations (more than 1,000 is unusual).</li>');
    expect(page).toContain('1 Nov 2026, 11:00 UTC');
    expect(page).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(\.\d+)?Z</);
    expect(page).toContain('href="https://keys.example.com/console/cases/case_lic_a"');
    expect(page).toContain('keyward cases decide case_lic_a --action suspend|revoke|dismiss --reason &quot;...&quot;');
  });

  it('has each section and its charts', () => {
    for (const id of ['signals', 'new-cases', 'open-cases', 'top-signals', 'keys-suspended', 'trial-cycling']) expect(html).toContain(`<section id="${id}">`);
    expect(html.match(/<svg /g)).toHaveLength(3);
  });
});
