/**
 * The report as one self-contained HTML page for people: inline CSS and inline SVG charts, no
 * scripts, no external assets (a strict CSP meta tag says so), every value escaped. Laid out to
 * fit a 1280 px window without sideways scrolling (fixed table layouts that wrap long ids), with
 * the masked key, plan and customer of each case, a plain line per signal, times in UTC words,
 * and for each case its console page and the CLI command that decides it.
 */
import type { SignalSubject } from './abuse-signal.js';
import { escapeHtml } from './escape-html.js';
import { renderBarChart, renderColumnChart } from './report-chart.js';
import type { ReportCaseView, ReportContent, ReportLicense } from './report-content.js';
import { formatCount, kindLabel } from './report-signal-text.js';
import { formatTime } from './report-time.js';

/** The report's style sheet, also served by the review console for reports shown inside it. */
export const REPORT_STYLE = `.report{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1200px;margin:0 auto;padding:0 1rem;box-sizing:border-box}
.report h1{font-size:1.5rem}.report h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.report table{border-collapse:collapse;width:100%;margin:.5rem 0;table-layout:fixed}
.report th,.report td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top;overflow-wrap:anywhere}
.report th{background:#f5f5f5}.report .num{text-align:right}.report .empty{color:#595959}
.report .summary{display:flex;gap:1rem;flex-wrap:wrap;padding:0;list-style:none}
.report .summary li{background:#f3f6fa;padding:.5rem .75rem;border-radius:4px}.report .summary b{display:block;font-size:1.3rem}
.report ul.reasons{margin:0;padding-left:1.1rem}.report code{font-size:12px;background:#f3f3f3;padding:1px 3px;border-radius:3px;overflow-wrap:anywhere}
.report .muted{color:#595959}.report svg.chart{max-width:100%;height:auto}
.report .c-case{width:22%}.report .c-score{width:8%}.report .c-status{width:8%}.report .c-why{width:32%}.report .c-when{width:12%}.report .c-next{width:18%}`;

const STYLE = `body{margin:2rem 0}${REPORT_STYLE}`;

const e = (value: string | number): string => escapeHtml(String(value));
const time = (at: Date): string => `<time datetime="${e(at.toISOString())}">${e(formatTime(at))}</time>`;
const subjectText = (subject: SignalSubject): string => (subject.type === 'license' ? subject.licenseId : `network ${subject.network}`);

/** Who a case or signal is about, in a reader's terms: masked key, plan, customer and e-mail. */
function whoCell(subject: SignalSubject, license: ReportLicense | null): string {
  if (subject.type === 'network') return `<b>Network ${e(subject.network)}</b><br><span class="muted">no license: guesses from this network</span>`;
  if (!license) return `<b>${e(subject.licenseId)}</b><br><span class="muted">license not found</span>`;
  const customer = [license.customerId, license.email].filter((part): part is string => part !== null).join(' · ');
  return (
    `<b>${e(license.keyMask)}</b> <span class="muted">(plan ${e(license.planId)}, ${e(license.status)})</span><br>` +
    `<span class="muted">${e(license.licenseId)}</span>` +
    (customer === '' ? '<br><span class="muted">no customer</span>' : `<br>${e(customer)}`)
  );
}

function table(headers: readonly (readonly [string, string])[], rows: readonly (readonly string[])[], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${e(empty)}</p>`;
  const head = headers.map(([header, className]) => `<th scope="col"${className === '' ? '' : ` class="${className}"`}>${e(header)}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function reasonsCell(reasons: readonly string[], kinds: readonly string[]): string {
  if (reasons.length === 0) return e(kinds.map(kindLabel).join(', '));
  return `<ul class="reasons">${reasons.map((reason) => `<li>${e(reason)}</li>`).join('')}</ul>`;
}

function caseRows(cases: readonly ReportCaseView[]): string[][] {
  return cases.map((found) => [
    whoCell(found.subject, found.license),
    e(found.score),
    e(found.status),
    reasonsCell(found.reasons, found.kinds),
    time(found.lastSignalAt),
    `<a href="${e(found.reviewUrl)}">Review ${e(found.id)}</a><br><code>${e(found.decideCommand)}</code>`,
  ]);
}

const CASE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Key and customer', 'c-case'],
  ['Score', 'c-score'],
  ['Status', 'c-status'],
  ['Why', 'c-why'],
  ['Last signal', 'c-when'],
  ['Next step', 'c-next'],
];

function section(id: string, title: string, body: string): string {
  return `<section id="${e(id)}"><h2>${e(title)}</h2>${body}</section>`;
}

/** The chart label of a case: its masked key when known, else its subject. */
const caseLabel = (found: ReportCaseView): string => found.license?.keyMask ?? subjectText(found.subject);

/** The report's content without a page around it (the console shows it inside its own layout). */
export function renderReportBody(report: ReportContent): string {
  const { summary } = report;
  const figures: Array<[string, number]> = [
    ['New cases', summary.newCases],
    ['Open cases', summary.openCases],
    ['Signals', summary.signals],
    ['Keys suspended', summary.keysSuspended],
    ['Keys revoked', summary.keysRevoked],
    ['Trial-cycling clusters', summary.trialCyclingClusters],
  ];
  const parts = [
    `<h1>${e(reportTitle(report))}</h1>`,
    `<p>Report ${e(report.reportId)}: from ${time(report.period.from)} to ${time(report.period.to)}, made ${time(report.generatedAt)}.</p>`,
    `<ul class="summary">${figures.map(([label, value]) => `<li><b>${e(value)}</b>${e(label)}</li>`).join('')}</ul>`,
    section(
      'signals',
      'Signals',
      renderColumnChart(
        report.signalsByDay.map(({ day, count }) => ({ label: day, value: count })),
        { title: 'Signals per day' },
      ) +
        renderBarChart(
          report.signalsByKind.map(({ kind, count }) => ({ label: kindLabel(kind), value: count })),
          { title: 'Signals by kind' },
        ),
    ),
    section(
      'new-cases',
      'New cases',
      renderBarChart(
        report.newCases.slice(0, 10).map((found) => ({ label: caseLabel(found), value: found.score })),
        { title: 'Highest-scoring new cases', color: '#b5523b' },
      ) + table(CASE_HEADERS, caseRows(report.newCases), 'No new cases in this period.'),
    ),
    section('open-cases', 'Open cases', table(CASE_HEADERS, caseRows(report.openCases), 'No open cases.')),
    section(
      'top-signals',
      'Top signals',
      table(
        [
          ['Kind', 'c-status'],
          ['Key and customer', 'c-case'],
          ['What was seen', 'c-why'],
          ['Severity', 'c-score'],
          ['Where from', 'c-next'],
          ['Detected', 'c-when'],
        ],
        report.topSignals.map((signal) => [
          e(kindLabel(signal.kind)),
          whoCell(signal.subject, signal.license),
          e(signal.reason),
          e(signal.severity),
          e(
            signal.countries.length > 0
              ? `Countries: ${signal.countries.join(', ')}`
              : signal.topIps.slice(0, 3).map(({ value, count }) => `${value} (${formatCount(count)})`).join(', '),
          ),
          time(signal.detectedAt),
        ]),
        'No signals in this period.',
      ),
    ),
    section(
      'keys-suspended',
      'Keys suspended or revoked',
      table(
        [
          ['License', 'c-case'],
          ['Action', 'c-score'],
          ['Reviewer', 'c-status'],
          ['Reason', 'c-why'],
          ['Case', 'c-next'],
          ['At', 'c-when'],
        ],
        report.keyActions.map((action) => [e(action.licenseId), e(action.action), e(action.reviewer), e(action.reason), e(action.caseId), time(action.at)]),
        'No keys were suspended or revoked in this period.',
      ),
    ),
    section(
      'trial-cycling',
      'Trial-cycling clusters',
      table(
        [
          ['Customers', 'c-case'],
          ['Licenses', 'c-why'],
          ['Shared', 'c-next'],
          ['Signals', 'c-score'],
        ],
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
  return `<div class="report">${parts.join('\n')}</div>`;
}

/** `Abuse report 2026-11-01 to 2026-11-02`. */
export function reportTitle(report: Pick<ReportContent, 'period'>): string {
  return `Abuse report ${report.period.from.toISOString().slice(0, 10)} to ${report.period.to.toISOString().slice(0, 10)}`;
}

/** The HTML page of a report. */
export function renderReportHtml(report: ReportContent): string {
  const title = reportTitle(report);
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(title)}</title><style>${STYLE}</style></head>` +
    `<body>${renderReportBody(report)}</body></html>\n`
  );
}
