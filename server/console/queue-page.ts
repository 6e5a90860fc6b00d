/** The review queue: open cases by score, with filters and a search, one row per case. */
import { CASE_STATUSES } from '../../lib/abuse/abuse-case.js';
import { SIGNAL_KINDS } from '../../lib/abuse/abuse-signal.js';
import { kindLabel } from '../../lib/abuse/report-signal-text.js';
import { formatAge, formatTime } from '../../lib/abuse/report-time.js';
import type { ConsoleUser } from './console-auth.js';
import type { QueueFilter, QueueRow } from './console-data.js';
import { badge, consolePage, h, stackTable } from './console-layout.js';

/** Age filters offered, in days. */
export const AGE_CHOICES: readonly { readonly days: number | null; readonly label: string }[] = [
  { days: null, label: 'any time' },
  { days: 1, label: 'last 24 hours' },
  { days: 7, label: 'last 7 days' },
  { days: 30, label: 'last 30 days' },
];

const option = (value: string, label: string, selected: boolean): string => `<option value="${h(value)}"${selected ? ' selected' : ''}>${h(label)}</option>`;

function whoOf(row: QueueRow): string {
  const { subject } = row.found;
  if (subject.type === 'network') return `<b>Network ${h(subject.network)}</b><br><span class="muted">no license</span>`;
  if (!row.license) return `<b>${h(subject.licenseId)}</b><br><span class="muted">license not found</span>`;
  const { license } = row.license;
  return (
    `<b>${h(row.license.keyMask)}</b> <span class="muted">${h(license.planId)}</span> ${badge(license.status)}<br>` +
    `<span class="muted">${h(license.customerId ?? 'no customer')}${row.email === null ? '' : ` · ${h(row.email)}`}</span>`
  );
}

/** The queue page. */
export function renderQueuePage(user: ConsoleUser, filter: QueueFilter, rows: readonly QueueRow[], now: Date): string {
  const kinds = [...new Set<string>([...SIGNAL_KINDS, ...rows.flatMap(({ found }) => found.timeline.map(({ kind }) => kind)), ...(filter.kind === null ? [] : [filter.kind])])];
  const filters =
    `<form class="filters" method="get" action="/console" role="search">` +
    `<label>Search<input type="search" name="q" value="${h(filter.search)}" placeholder="license, customer, e-mail or key" size="28"></label>` +
    `<label>Status<select name="status">${option('any', 'any', filter.status === 'any')}${CASE_STATUSES.map((status) => option(status, status, filter.status === status)).join('')}</select></label>` +
    `<label>Kind<select name="kind">${option('', 'any kind', filter.kind === null)}${kinds.map((kind) => option(kind, kindLabel(kind), filter.kind === kind)).join('')}</select></label>` +
    `<label>Last signal<select name="age">${AGE_CHOICES.map(({ days, label }) => option(days === null ? '' : String(days), label, filter.ageDays === days)).join('')}</select></label>` +
    `<button class="primary" type="submit">Show</button></form>`;
  const table = stackTable(
    ['Score', 'Key and customer', 'Signals', 'Status', 'Last signal', 'Case'],
    rows.map((row) => [
      `<b>${h(row.found.score)}</b>`,
      whoOf(row),
      h([...new Set(row.found.timeline.map(({ kind }) => kindLabel(kind)))].join(', ')),
      badge(row.found.status),
      `<time datetime="${h(row.found.lastSignalAt.toISOString())}" title="${h(formatTime(row.found.lastSignalAt))}">${h(formatAge(row.found.lastSignalAt, now))}</time>`,
      `<a href="/console/cases/${encodeURIComponent(row.found.id)}">Open case<span class="skip"> ${h(row.found.id)}</span></a>`,
    ]),
    'No cases match these filters.',
    'Cases by score',
    'queue',
  );
  return consolePage('Queue', `<h1>Review queue</h1>${filters}<p class="muted">${h(rows.length)} case${rows.length === 1 ? '' : 's'}, highest score first.</p>${table}`, user);
}
