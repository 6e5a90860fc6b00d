/**
 * Reports in the console: the list (daily and on-demand, newest first) and one report shown
 * inside the console page (the same body as the HTML report, under the console's own style
 * sheet and policy), with its downloads.
 */
import { caseDecideCommand, caseReviewUrl } from '../../lib/abuse/build-report.js';
import type { ReportCaseView, ReportContent, ReportSignalView } from '../../lib/abuse/report-content.js';
import { renderReportBody } from '../../lib/abuse/report-html.js';
import { countriesOf, describeSignal } from '../../lib/abuse/report-signal-text.js';
import { formatTime } from '../../lib/abuse/report-time.js';
import type { StoredReport } from '../../lib/store/mongo-report-store.js';
import type { ConsoleUser } from './console-auth.js';
import { badge, consolePage, h, stackTable } from './console-layout.js';

const time = (at: Date | null): string => (at === null ? '' : `<time datetime="${h(at.toISOString())}">${h(formatTime(at))}</time>`);

/** The reports list, with the form that asks for one now (write tokens). */
export function renderReportsPage(user: ConsoleUser, reports: readonly StoredReport[], notice: string | null): string {
  const form = user.canDecide
    ? `<form class="filters" method="post" action="/console/reports"><input type="hidden" name="csrf" value="${h(user.csrfToken)}">` +
      `<label>Hours back<select name="hours"><option value="24">last 24 hours</option><option value="168">last 7 days</option><option value="720">last 30 days</option></select></label>` +
      `<button class="primary" type="submit">Make a report now</button></form>`
    : '';
  const table = stackTable(
    ['Report', 'Period', 'Made by', 'Status', ''],
    reports.map((report) => [
      `<code>${h(report.id)}</code>`,
      `${time(report.period.from)} to ${time(report.period.to)}`,
      h(report.trigger === 'schedule' ? 'daily schedule' : report.requestedBy),
      badge(report.status),
      report.status === 'ready' ? `<a href="/console/reports/${encodeURIComponent(report.id)}">Open<span class="skip"> ${h(report.id)}</span></a>` : h(report.error ?? 'being made'),
    ]),
    'No reports yet: the worker makes one every day at 05:00 UTC.',
  );
  return consolePage('Reports', `<h1>Reports</h1>${notice === null ? '' : `<p class="notice" role="status">${h(notice)}</p>`}${form}${table}`, user);
}

/**
 * The content of a stored report in today's shape: reports made by an earlier version lack the
 * license facts, plain reasons and links, which are filled from what they do hold.
 */
export function currentReportShape(content: ReportContent): ReportContent {
  const caseOf = (found: ReportCaseView): ReportCaseView => ({
    ...found,
    license: found.license ?? null,
    reasons: found.reasons ?? [],
    reviewUrl: found.reviewUrl ?? caseReviewUrl(found.id),
    decideCommand: found.decideCommand ?? caseDecideCommand(found.id),
  });
  const signalOf = (signal: ReportSignalView): ReportSignalView => ({
    ...signal,
    reason: signal.reason ?? describeSignal(signal),
    countries: signal.countries ?? countriesOf({ ...signal, evidence: signal.evidence ?? {} }),
    license: signal.license ?? null,
    caseId: signal.caseId ?? '',
  });
  return { ...content, newCases: content.newCases.map(caseOf), openCases: content.openCases.map(caseOf), topSignals: content.topSignals.map(signalOf) };
}

/** One report inside the console. */
export function renderReportPage(user: ConsoleUser, report: StoredReport & { readonly content: ReportContent }): string {
  const downloads = (['html', 'json', 'csv'] as const)
    .map((format) => `<a href="/console/reports/${encodeURIComponent(report.id)}/download.${format}">${format.toUpperCase()}</a>`)
    .join(' · ');
  return consolePage(
    `Report ${report.id}`,
    `<p><a href="/console/reports">← All reports</a> · Download: ${downloads}</p>${renderReportBody(currentReportShape(report.content))}`,
    user,
  );
}
