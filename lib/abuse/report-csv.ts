/**
 * The report as one CSV table for tools (RFC 4180: CRLF, quoted where needed), one row per
 * listed item with a `section` column: new_case, open_case, signal_kind, top_signal,
 * key_action, trial_cluster. Case and signal rows also carry the license's masked key, plan,
 * customer and e-mail, the plain reason (one line per signal, `; `-joined for a case), the
 * countries of a geo spread, and for cases the console link and the CLI command: the same facts
 * the HTML shows, from the same built report. Cells that a spreadsheet would run as a formula (starting with
 * `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'`.
 */
import type { SignalSubject } from './abuse-signal.js';
import type { ReportCaseView, ReportContent, ReportLicense } from './report-content.js';

/** Column names, in order. */
export const REPORT_CSV_COLUMNS = [
  'section',
  'id',
  'subject',
  'kind',
  'status',
  'score',
  'count',
  'at',
  'detail',
  'key_mask',
  'plan',
  'customer',
  'email',
  'reason',
  'countries',
  'review_url',
  'decide_command',
] as const;

type Row = Readonly<Record<(typeof REPORT_CSV_COLUMNS)[number], string | number>>;

/** One CSV cell. */
export function csvCell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const blank = {
  id: '',
  subject: '',
  kind: '',
  status: '',
  score: '',
  count: '',
  at: '',
  detail: '',
  key_mask: '',
  plan: '',
  customer: '',
  email: '',
  reason: '',
  countries: '',
  review_url: '',
  decide_command: '',
};

const subjectText = (subject: SignalSubject): string => (subject.type === 'license' ? subject.licenseId : subject.network);

function licenseCells(license: ReportLicense | null) {
  return { key_mask: license?.keyMask ?? '', plan: license?.planId ?? '', customer: license?.customerId ?? '', email: license?.email ?? '' };
}

function caseRow(section: string, found: ReportCaseView): Row {
  return {
    ...blank,
    ...licenseCells(found.license),
    reason: found.reasons.join('; '),
    review_url: found.reviewUrl,
    decide_command: found.decideCommand,
    section,
    id: found.id,
    subject: subjectText(found.subject),
    kind: found.kinds.join(' '),
    status: found.status,
    score: found.score,
    count: found.signalCount,
    at: found.lastSignalAt.toISOString(),
    detail: `opened ${found.openedAt.toISOString()}`,
  };
}


/** The CSV text of a report. */
export function renderReportCsv(report: ReportContent): string {
  const rows: Row[] = [
    ...report.newCases.map((found) => caseRow('new_case', found)),
    ...report.openCases.map((found) => caseRow('open_case', found)),
    ...report.signalsByKind.map(({ kind, count, maxSeverity }) => ({ ...blank, section: 'signal_kind', kind, count, score: maxSeverity })),
    ...report.topSignals.map((signal) => ({
      ...blank,
      section: 'top_signal',
      id: signal.id,
      subject: subjectText(signal.subject),
      kind: signal.kind,
      score: signal.severity,
      count: signal.value,
      at: signal.detectedAt.toISOString(),
      detail: `threshold ${signal.threshold}`,
      ...licenseCells(signal.license),
      reason: signal.reason,
      countries: signal.countries.join(' '),
    })),
    ...report.keyActions.map((action) => ({
      ...blank,
      section: 'key_action',
      id: action.caseId,
      subject: action.licenseId,
      kind: action.action,
      status: action.reviewer,
      at: action.at.toISOString(),
      detail: action.reason,
    })),
    ...report.trialCyclingClusters.map((cluster, i) => ({
      ...blank,
      section: 'trial_cluster',
      id: `cluster_${i + 1}`,
      subject: cluster.customers.join(' '),
      kind: cluster.sharedBy.join(' '),
      count: cluster.signals,
      detail: cluster.licenses.join(' '),
    })),
  ];
  const lines = [REPORT_CSV_COLUMNS.join(','), ...rows.map((row) => REPORT_CSV_COLUMNS.map((column) => csvCell(row[column])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
