/**
 * Builds a report from gathered facts: summary counts, a zero-filled day series, and
 * trial-cycling clusters (connected groups of customers and licenses linked by trial-cycling
 * signals). Pure: the same input and id give the same report.
 */
import type { ReportContent, ReportInput, ReportTrialLinks, TrialCyclingCluster } from './report-content.js';

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

/** The report of `input`, identified as `reportId`, generated at `now`. */
export function buildReport(reportId: string, input: ReportInput, now: Date): ReportContent {
  const clusters = clusterTrialLinks(input.trialLinks);
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
    newCases: input.newCases,
    openCases: input.openCases,
    signalsByKind: [...input.signalsByKind].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind)),
    signalsByDay: daySeries(input),
    topSignals: input.topSignals,
    keyActions: input.keyActions,
    trialCyclingClusters: clusters,
  };
}
