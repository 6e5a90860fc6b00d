/**
 * A case page: whose key it is, why it was flagged in plain words, the evidence as charts and
 * tables, the score's history, the license's audit trail, related trials, and the decision form
 * (write tokens only).
 */
import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import { networkOf } from '../../lib/abuse/network-of.js';
import { renderBarChart, renderColumnChart } from '../../lib/abuse/report-chart.js';
import { describeSignal, formatCount, kindLabel } from '../../lib/abuse/report-signal-text.js';
import { formatTime } from '../../lib/abuse/report-time.js';
import type { ConsoleUser } from './console-auth.js';
import type { CaseView } from './console-data.js';
import { badge, consolePage, h, stackTable } from './console-layout.js';

/** Signals whose evidence is drawn in full; older ones are listed in the timeline only. */
const EVIDENCE_SIGNALS = 8;

/** What a decision did, shown once after it (from the redirect's query string). */
export type DecisionNotice = 'dismiss' | 'suspend' | 'revoke' | 'reinstate';

const NOTICES: Readonly<Record<DecisionNotice, string>> = {
  dismiss: 'Case dismissed.',
  suspend: 'License suspended; the case is actioned.',
  revoke: 'License revoked for good; the case is actioned.',
  reinstate: 'License reinstated.',
};

const time = (at: Date): string => `<time datetime="${h(at.toISOString())}">${h(formatTime(at))}</time>`;

function fact(term: string, value: string): string {
  return `<dt>${h(term)}</dt><dd>${value}</dd>`;
}

function factsOf(view: CaseView): string {
  const { found, license } = view;
  const parts = [fact('Case', `<code>${h(found.id)}</code>`), fact('Status', badge(found.status))];
  if (found.subject.type === 'network') {
    parts.push(fact('Network', `<code>${h(found.subject.network)}</code> (no license: unknown keys tried from here)`));
  } else if (license === null) {
    parts.push(fact('License', `<code>${h(found.subject.licenseId)}</code> (not found)`));
  } else {
    const l = license.license;
    parts.push(
      fact('Key', `<b>${h(license.keyMask)}</b>`),
      fact('License', `<code>${h(l.id)}</code> ${badge(l.status)}${l.trial ? ` <span class="muted">trial until ${h(formatTime(l.trial.endsAt))}</span>` : ''}`),
      fact('Plan', h(l.planId)),
      fact('Customer', l.customerId === null ? '<span class="muted">none</span>' : `<code>${h(l.customerId)}</code>`),
      fact('E-mail', view.email === null ? '<span class="muted">unknown</span>' : h(view.email)),
      fact('Seats in use', h(`${l.activations.length}${l.limits.maxActivations === null ? '' : ` of ${l.limits.maxActivations}`}`)),
    );
  }
  parts.push(
    fact('Score', `<b>${h(view.currentScore)}</b> now <span class="muted">(${h(found.score)} at the last signal; older signals weigh less)</span>`),
    fact('Opened', time(found.openedAt)),
    fact('Last signal', time(found.lastSignalAt)),
  );
  if (found.decision) parts.push(fact('Decision', `${h(found.decision.action)} by ${h(found.decision.reviewer)}, ${time(found.decision.at)}: ${h(found.decision.reason)}`));
  return `<dl class="facts">${parts.join('')}</dl>`;
}

function reasonsOf(view: CaseView): string {
  const latest = new Map<string, AbuseSignal>();
  for (const signal of view.signals) if (!latest.has(signal.kind)) latest.set(signal.kind, signal);
  if (latest.size === 0) return '<p class="muted">The signals of this case are no longer stored.</p>';
  return `<ul class="reasons">${[...latest.values()].map((signal) => `<li><b>${h(kindLabel(signal.kind))}:</b> ${h(describeSignal(signal))} <span class="muted">(${h(formatTime(signal.detectedAt))})</span></li>`).join('')}</ul>`;
}

function decisionForm(view: CaseView, user: ConsoleUser): string {
  if (!user.canDecide) return `<p class="muted">You signed in with a read token: you can review this case but not decide it.</p>`;
  const isLicense = view.found.subject.type === 'license';
  const status = view.license?.license.status;
  const actions: Array<[string, string]> = [['dismiss', 'Dismiss: nothing wrong']];
  if (isLicense && status !== 'revoked') actions.push(['suspend', 'Suspend the key (reversible)']);
  if (isLicense && status !== 'revoked') actions.push(['revoke', 'Revoke the key for good']);
  if (isLicense && status === 'suspended') actions.push(['reinstate', 'Reinstate the key']);
  return (
    `<form class="decide" method="post" action="/console/cases/${encodeURIComponent(view.found.id)}/decide">` +
    `<input type="hidden" name="csrf" value="${h(user.csrfToken)}">` +
    `<label>Decision<select name="action" required>${actions.map(([value, label]) => `<option value="${value}">${h(label)}</option>`).join('')}</select></label>` +
    `<label>Reason (recorded on the case and in the license's audit trail)<textarea name="reason" required minlength="3" maxlength="1000"></textarea></label>` +
    `<div><button class="danger" type="submit">Record decision</button></div></form>`
  );
}

function countedTable(title: string, column: string, values: readonly { readonly value: string; readonly count: number }[], empty: string): string {
  return `<h4>${h(title)}</h4>${stackTable([column, 'Seen'], values.map(({ value, count }) => [`<code>${h(value)}</code>`, h(formatCount(count))]), empty)}`;
}

function networksOf(signal: AbuseSignal): { value: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const { value, count } of signal.evidence.topIps ?? []) {
    let network: string;
    try {
      network = networkOf(value);
    } catch {
      network = value;
    }
    counts.set(network, (counts.get(network) ?? 0) + count);
  }
  return [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}

function evidenceOf(signal: AbuseSignal, index: number): string {
  const { evidence } = signal;
  const parts = [`<p>${h(describeSignal(signal))}</p>`, `<p class="muted">Window ${time(signal.window.start)} to ${time(signal.window.end)}; first seen ${time(evidence.firstSeen)}, last seen ${time(evidence.lastSeen)}; severity ${h(signal.severity)}.</p>`];
  if (evidence.countries && evidence.countries.length > 0) {
    parts.push(
      renderBarChart(
        evidence.countries.slice(0, 15).map(({ value, count }) => ({ label: value, value: count })),
        { title: `Validations by country (${evidence.countries.length} countries)`, width: 560 },
      ),
      `<p>All countries: ${h(evidence.countries.map(({ value, count }) => `${value} (${formatCount(count)})`).join(', '))}</p>`,
    );
  }
  const tables: string[] = [];
  if ((evidence.topIps ?? []).length > 0) {
    // A sweep's networks are counted exactly in its evidence; otherwise they come from the top addresses.
    tables.push(countedTable('Top networks', 'Network', evidence.networks ?? networksOf(signal), 'No networks.'), countedTable('Top addresses', 'Address', evidence.topIps ?? [], 'No addresses.'));
  }
  if ((evidence.userAgents ?? []).length > 0) tables.push(countedTable('User agents', 'User-Agent', evidence.userAgents ?? [], 'No user agents.'));
  if ((evidence.referrers ?? []).length > 0) tables.push(countedTable('Top domains', 'Domain', evidence.referrers ?? [], 'No domains.'));
  if ((evidence.fingerprints ?? []).length > 0) tables.push(countedTable('Top devices', 'Device', evidence.fingerprints ?? [], 'No devices.'));
  const details = Object.entries(evidence.details ?? {});
  if (details.length > 0) {
    tables.push(`<h4>Details</h4>${stackTable(['Measure', 'Value'], details.map(([name, value]) => [h(name), h(typeof value === 'number' ? formatCount(value) : String(value))]), '')}`);
  }
  if (tables.length > 0) parts.push(`<div class="grid2">${tables.map((table) => `<div>${table}</div>`).join('')}</div>`);
  return `<section aria-labelledby="ev-${index}"><h3 id="ev-${index}">${h(kindLabel(signal.kind))}, ${h(formatTime(signal.detectedAt))}</h3>${parts.join('')}</section>`;
}

function timelineOf(view: CaseView): string {
  const entries = [...view.found.timeline].sort((a, b) => a.windowStart.getTime() - b.windowStart.getTime());
  const chart = renderColumnChart(
    entries.map((entry) => ({ label: `${kindLabel(entry.kind)} ${formatTime(entry.windowStart)}`, value: entry.value })),
    { title: 'Measured value of each signal window, oldest first', width: 560 },
  );
  const table = stackTable(
    ['Signal', 'Window', 'Measured', 'Threshold', 'Severity', 'Detected'],
    [...entries].reverse().map((entry) => [h(kindLabel(entry.kind)), `${time(entry.windowStart)} to ${time(entry.windowEnd)}`, h(formatCount(entry.value)), h(formatCount(entry.threshold)), h(entry.severity), time(entry.detectedAt)]),
    'No signals.',
  );
  return chart + table;
}

function scoreHistoryOf(view: CaseView): string {
  return (
    renderColumnChart(
      view.scoreHistory.map(({ at, score }) => ({ label: formatTime(at), value: score })),
      { title: 'Case score after each signal', width: 560, color: '#b5523b' },
    ) + stackTable(['After', 'Signal', 'Score'], [...view.scoreHistory].reverse().slice(0, 20).map(({ at, kind, score }) => [time(at), h(kindLabel(kind)), h(score)]), 'No history.')
  );
}

function auditOf(view: CaseView): string {
  if (view.found.subject.type !== 'license') return '<p class="muted">A network case has no license and no audit trail.</p>';
  return stackTable(
    ['When', 'Change', 'By', 'Why'],
    view.audit.map((entry) => [
      time(entry.at),
      h(`${entry.command}: ${entry.from ?? 'new'} → ${entry.to}`),
      `<code>${h(entry.cause.actor)}</code>`,
      h(entry.cause.reason ?? ''),
    ]),
    'No audit entries.',
  );
}

function relatedTrialsOf(view: CaseView): string {
  return stackTable(
    ['Customer', 'License', 'Shares'],
    view.relatedTrials.map((trial) => [
      `<code>${h(trial.customerId)}</code>`,
      trial.license === null
        ? h(trial.licenseId ?? 'none')
        : `<b>${h(trial.license.keyMask)}</b> <code>${h(trial.license.license.id)}</code> ${badge(trial.license.license.status)}`,
      h(trial.sharedBy.join(', ')),
    ]),
    'No related trials.',
  );
}

function decisionsOf(view: CaseView): string {
  return stackTable(
    ['When', 'Decision', 'By', 'Why'],
    [...view.found.decisions].reverse().map((decision) => [time(decision.at), h(decision.action), `<code>${h(decision.reviewer)}</code>`, h(decision.reason)]),
    'No decisions yet.',
  );
}

/** The case page. */
export function renderCasePage(view: CaseView, user: ConsoleUser, notice: DecisionNotice | null, problem: string | null): string {
  const title = view.found.subject.type === 'network' ? `Network ${view.found.subject.network}` : (view.license?.keyMask ?? view.found.subject.licenseId);
  const body = [
    `<p><a href="/console">← Back to the queue</a></p>`,
    `<h1>Case: ${h(title)} ${badge(view.found.status)}</h1>`,
    notice === null ? '' : `<p class="notice" role="status">${h(NOTICES[notice])}</p>`,
    problem === null ? '' : `<p class="error" role="alert">${h(problem)}</p>`,
    factsOf(view),
    `<h2>Why it was flagged</h2>${reasonsOf(view)}`,
    `<h2>Decide</h2>${decisionForm(view, user)}`,
    `<h2>Evidence</h2>${view.signals.slice(0, EVIDENCE_SIGNALS).map(evidenceOf).join('') || '<p class="muted">No evidence stored.</p>'}`,
    `<h2>Timeline of signals</h2>${timelineOf(view)}`,
    `<h2>Score history</h2>${scoreHistoryOf(view)}`,
    `<h2>Related trials</h2>${relatedTrialsOf(view)}`,
    `<h2>Decisions</h2>${decisionsOf(view)}`,
    `<h2>License audit trail</h2>${auditOf(view)}`,
    `<h2>From a terminal</h2><p><code>keyward cases decide ${h(view.found.id)} --action suspend --reason "…"</code></p>`,
  ];
  return consolePage(`Case ${title}`, body.join(''), user);
}
