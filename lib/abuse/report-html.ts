/**
 * The report as one self-contained HTML page for people: inline CSS and inline SVG charts, no
 * scripts, no external assets (a strict CSP meta tag says so), every value escaped.
 */
import type { SignalSubject } from './abuse-signal.js';
import { escapeHtml } from './escape-html.js';
import { renderBarChart, renderColumnChart } from './report-chart.js';
import type { ReportCase, ReportContent } from './report-content.js';

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f5f5f5}.num{text-align:right}.empty{color:#777}.summary{display:flex;gap:1rem;flex-wrap:wrap;padding:0;list-style:none}
.summary li{background:#f3f6fa;padding:.5rem .75rem;border-radius:4px}.summary b{display:block;font-size:1.3rem}`;

const e = (value: string | number): string => escapeHtml(String(value));
const time = (at: Date): string => e(at.toISOString().replace('.000Z', 'Z'));
const subjectText = (subject: SignalSubject): string => (subject.type === 'license' ? subject.licenseId : `network ${subject.network}`);

function table(headers: readonly string[], rows: readonly (readonly string[])[], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${e(empty)}</p>`;
  const head = headers.map((header) => `<th>${e(header)}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function caseRows(cases: readonly ReportCase[]): string[][] {
  return cases.map((found) => [
    e(found.id),
    e(subjectText(found.subject)),
    e(found.status),
    e(found.score),
    e(found.signalCount),
    e(found.kinds.join(', ')),
    time(found.lastSignalAt),
  ]);
}

const CASE_HEADERS = ['Case', 'Subject', 'Status', 'Score', 'Signals', 'Kinds', 'Last signal'];

function section(id: string, title: string, body: string): string {
  return `<section id="${e(id)}"><h2>${e(title)}</h2>${body}</section>`;
}

/** The HTML page of a report. */
export function renderReportHtml(report: ReportContent): string {
  const { summary } = report;
  const figures: Array<[string, number]> = [
    ['New cases', summary.newCases],
    ['Open cases', summary.openCases],
    ['Signals', summary.signals],
    ['Keys suspended', summary.keysSuspended],
    ['Keys revoked', summary.keysRevoked],
    ['Trial-cycling clusters', summary.trialCyclingClusters],
  ];
  const title = `Abuse report ${report.period.from.toISOString().slice(0, 10)} to ${report.period.to.toISOString().slice(0, 10)}`;
  const parts = [
    `<h1>${e(title)}</h1>`,
    `<p>Report ${e(report.reportId)}, period ${time(report.period.from)} to ${time(report.period.to)}, generated ${time(report.generatedAt)}.</p>`,
    `<ul class="summary">${figures.map(([label, value]) => `<li><b>${e(value)}</b>${e(label)}</li>`).join('')}</ul>`,
    section(
      'signals',
      'Signals',
      renderColumnChart(
        report.signalsByDay.map(({ day, count }) => ({ label: day, value: count })),
        { title: 'Signals per day' },
      ) +
        renderBarChart(
          report.signalsByKind.map(({ kind, count }) => ({ label: kind, value: count })),
          { title: 'Signals by kind' },
        ),
    ),
    section(
      'new-cases',
      'New cases',
      renderBarChart(
        report.newCases.slice(0, 10).map((found) => ({ label: subjectText(found.subject), value: found.score })),
        { title: 'Highest-scoring new cases', color: '#b5523b' },
      ) + table(CASE_HEADERS, caseRows(report.newCases), 'No new cases in this period.'),
    ),
    section('open-cases', 'Open cases', table(CASE_HEADERS, caseRows(report.openCases), 'No open cases.')),
    section(
      'top-signals',
      'Top signals',
      table(
        ['Signal', 'Kind', 'Subject', 'Severity', 'Value', 'Threshold', 'Top IPs', 'Detected'],
        report.topSignals.map((signal) => [
          e(signal.id),
          e(signal.kind),
          e(subjectText(signal.subject)),
          e(signal.severity),
          e(signal.value),
          e(signal.threshold),
          e(signal.topIps.slice(0, 3).map(({ value, count }) => `${value} (${count})`).join(', ')),
          time(signal.detectedAt),
        ]),
        'No signals in this period.',
      ),
    ),
    section(
      'keys-suspended',
      'Keys suspended or revoked',
      table(
        ['License', 'Action', 'Reviewer', 'Reason', 'Case', 'At'],
        report.keyActions.map((action) => [e(action.licenseId), e(action.action), e(action.reviewer), e(action.reason), e(action.caseId), time(action.at)]),
        'No keys were suspended or revoked in this period.',
      ),
    ),
    section(
      'trial-cycling',
      'Trial-cycling clusters',
      table(
        ['Customers', 'Licenses', 'Shared', 'Signals'],
        report.trialCyclingClusters.map((cluster) => [
          e(cluster.customers.join(', ')),
          e(cluster.licenses.join(', ')),
          e(cluster.sharedBy.join(', ')),
          e(cluster.signals),
        ]),
        'No trial-cycling clusters in this period.',
      ),
    ),
  ];
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(title)}</title><style>${STYLE}</style></head>` +
    `<body>${parts.join('\n')}</body></html>\n`
  );
}
