/**
 * Builds a report from gathered facts: summary counts, a zero-filled day series, and
 * trial-cycling clusters (connected groups of customers and licenses linked by trial-cycling
 * signals). Pure: the same input and id give the same report.
 */
import { caseIdOf } from './case-id.js';
import type {
  ReportCase,
  ReportCaseView,
  ReportContent,
  ReportInput,
  ReportLicense,
  ReportSignal,
  ReportSignalView,
  ReportTrialLinks,
  TrialCyclingCluster,
} from './report-content.js';
import { countriesOf, describeSignal } from './report-signal-text.js';

/** Options of {@link buildReport}. */
export interface BuildReportOptions {
  /**
   * Where the review console is, e.g. `https://keyward.example.com`: case links read
   * `<consoleBaseUrl>/console/cases/<id>`. Default `` (links are paths on the server).
   */
  readonly consoleBaseUrl?: string;
}

/** The console page of a case. */
export function caseReviewUrl(caseId: string, consoleBaseUrl = ''): string {
  return `${consoleBaseUrl.replace(/\/+$/, '')}/console/cases/${encodeURIComponent(caseId)}`;
}

/** The CLI command that decides a case (the reader picks the action and writes the reason). */
export function caseDecideCommand(caseId: string): string {
  return `keyward cases decide ${caseId} --action suspend|revoke|dismiss --reason "..."`;
}

const DAY_MS = 86_400_000;
/** Longest day series drawn; longer periods show their last days. */
const MAX_DAYS = 366;

/** `YYYY-MM-DD` of a time, in UTC. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function daySeries(input: ReportInput): ReportContent['signalsByDay'] {
  const counts = new Map(input.signalsByDay.map(({ day, count }) => [day, count]));
  const first = Math.floor(input.from.getTime() / DAY_MS);
  const last = Math.ceil(input.to.getTime() / DAY_MS) - 1;
  const days: { day: string; count: number }[] = [];
  for (let day = Math.max(first, last - MAX_DAYS + 1); day <= last; day++) {
    const name = utcDay(new Date(day * DAY_MS));
    days.push({ day: name, count: counts.get(name) ?? 0 });
  }
  return days;
}

/** Groups customers linked (directly or through each other) by trial-cycling signals. */
export function clusterTrialLinks(links: readonly ReportTrialLinks[]): TrialCyclingCluster[] {
  const parent = new Map<string, string>();
  const find = (node: string): string => {
    let root = node;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    parent.set(node, root);
    return root;
  };
  const add = (node: string): void => {
    if (!parent.has(node)) parent.set(node, node);
  };
  const union = (a: string, b: string): void => {
    add(a);
    add(b);
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  // Nodes: `c:<customer>` and `l:<license>`; a linked customer is joined to its license and to
  // the signal's (new trial's) license, so chains of trials form one cluster.
  for (const link of links) {
    const anchor = link.licenseId === null ? `s:${link.signalId}` : `l:${link.licenseId}`;
    add(anchor);
    for (const linked of link.linkedCustomers) {
      union(anchor, `c:${linked.customerId}`);
      if (linked.licenseId !== null) union(`c:${linked.customerId}`, `l:${linked.licenseId}`);
    }
  }
  const groups = new Map<string, { customers: Set<string>; licenses: Set<string>; sharedBy: Set<string>; signals: number }>();
  const group = (node: string) => {
    const root = find(node);
    let found = groups.get(root);
    if (!found) groups.set(root, (found = { customers: new Set(), licenses: new Set(), sharedBy: new Set(), signals: 0 }));
    return found;
  };
  for (const node of parent.keys()) {
    const target = group(node);
    if (node.startsWith('c:')) target.customers.add(node.slice(2));
    if (node.startsWith('l:')) target.licenses.add(node.slice(2));
  }
  for (const link of links) {
    const target = group(link.licenseId === null ? `s:${link.signalId}` : `l:${link.licenseId}`);
    target.signals += 1;
    for (const linked of link.linkedCustomers) for (const what of linked.sharedBy) target.sharedBy.add(what);
  }
  return [...groups.values()]
    .filter((found) => found.customers.size > 0)
    .map((found) => ({
      customers: [...found.customers].sort(),
      licenses: [...found.licenses].sort(),
      sharedBy: [...found.sharedBy].sort(),
      signals: found.signals,
    }))
    .sort((a, b) => b.customers.length - a.customers.length || (a.customers[0] ?? '').localeCompare(b.customers[0] ?? ''));
}

function signalView(signal: ReportSignal, licenses: ReadonlyMap<string, ReportLicense>): ReportSignalView {
  const facts = { kind: signal.kind, value: signal.value, threshold: signal.threshold, evidence: { topIps: signal.topIps, ...signal.evidence }, ...(signal.window ? { window: signal.window } : {}) };
  return {
    ...signal,
    reason: describeSignal(facts),
    countries: countriesOf(facts),
    license: signal.subject.type === 'license' ? (licenses.get(signal.subject.licenseId) ?? null) : null,
    caseId: caseIdOf(signal.subject),
  };
}

/** The latest signal of each kind per case, newest first. */
function latestByCaseAndKind(signals: readonly ReportSignalView[]): Map<string, ReportSignalView[]> {
  const byCase = new Map<string, Map<string, ReportSignalView>>();
  for (const signal of signals) {
    const kinds = byCase.get(signal.caseId) ?? new Map<string, ReportSignalView>();
    byCase.set(signal.caseId, kinds);
    const held = kinds.get(signal.kind);
    if (!held || held.detectedAt.getTime() < signal.detectedAt.getTime() || (held.detectedAt.getTime() === signal.detectedAt.getTime() && held.id < signal.id)) {
      kinds.set(signal.kind, signal);
    }
  }
  return new Map(
    [...byCase].map(([caseId, kinds]) => [caseId, [...kinds.values()].sort((a, b) => b.detectedAt.getTime() - a.detectedAt.getTime() || a.id.localeCompare(b.id))]),
  );
}

function caseView(found: ReportCase, signals: ReadonlyMap<string, readonly ReportSignalView[]>, licenses: ReadonlyMap<string, ReportLicense>, options: BuildReportOptions): ReportCaseView {
  return {
    ...found,
    license: found.subject.type === 'license' ? (licenses.get(found.subject.licenseId) ?? null) : null,
    reasons: (signals.get(found.id) ?? []).map(({ reason }) => reason),
    reviewUrl: caseReviewUrl(found.id, options.consoleBaseUrl),
    decideCommand: caseDecideCommand(found.id),
  };
}

/** The report of `input`, identified as `reportId`, generated at `now`. */
export function buildReport(reportId: string, input: ReportInput, now: Date, options: BuildReportOptions = {}): ReportContent {
  const clusters = clusterTrialLinks(input.trialLinks);
  const licenses = new Map((input.licenses ?? []).map((license) => [license.licenseId, license]));
  const topSignals = input.topSignals.map((signal) => signalView(signal, licenses));
  const caseSignals = latestByCaseAndKind([...topSignals, ...(input.caseSignals ?? []).map((signal) => signalView(signal, licenses))]);
  return {
    reportId,
    period: { from: input.from, to: input.to },
    generatedAt: now,
    summary: {
      newCases: input.newCases.length,
      openCases: input.openCases.length,
      signals: input.signalsByKind.reduce((sum, { count }) => sum + count, 0),
      keysSuspended: input.keyActions.filter(({ action }) => action === 'suspend').length,
      keysRevoked: input.keyActions.filter(({ action }) => action === 'revoke').length,
      trialCyclingClusters: clusters.length,
    },
    newCases: input.newCases.map((found) => caseView(found, caseSignals, licenses, options)),
    openCases: input.openCases.map((found) => caseView(found, caseSignals, licenses, options)),
    signalsByKind: [...input.signalsByKind].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind)),
    signalsByDay: daySeries(input),
    topSignals,
    keyActions: input.keyActions,
    trialCyclingClusters: clusters,
  };
}
