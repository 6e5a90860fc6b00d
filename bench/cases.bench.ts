/**
 * Abuse cases and reports: the pure work per signal and per report beside a baseline measured
 * in the same run, and case roll-up throughput on the embedded MongoDB-wire server beside plain
 * inserts of the same signals. Run alone: `node --expose-gc --import tsx bench/cases.bench.ts`.
 */
import { MongoClient } from 'mongodb';

import type { AbuseSignal } from '../lib/abuse/abuse-signal.js';
import { buildReport } from '../lib/abuse/build-report.js';
import type { ReportCase, ReportInput } from '../lib/abuse/report-content.js';
import { renderReportCsv } from '../lib/abuse/report-csv.js';
import { renderReportHtml } from '../lib/abuse/report-html.js';
import { rollUpSignal } from '../lib/abuse/roll-up-signal.js';
import { scoreCase } from '../lib/abuse/score-case.js';
import { MongoCaseStore } from '../lib/store/mongo-case-store.js';
import { isEntryPoint } from '../runtime/process-entry.js';
import { startLocalServices } from '../embedded/local-services.js';
import { measureBatches } from './batch-bench.js';

/** One row of the printed table. */
export interface CaseBenchRow {
  readonly benchmark: string;
  readonly 'ops/s': string;
  readonly baseline: string;
  readonly ratio: string;
}

const format = (n: number) => Math.round(n).toLocaleString('en-US');
const T0 = Date.parse('2026-11-01T00:00:00Z');

function signal(i: number, licenseId: string): AbuseSignal {
  const start = new Date(T0 + i * 3_600_000);
  const end = new Date(start.getTime() + 3_600_000);
  return {
    id: `sig_velocity_${licenseId}_${start.getTime()}`,
    kind: 'velocity',
    subject: { type: 'license', licenseId },
    window: { start, end },
    value: 1_500,
    threshold: 1_000,
    severity: 20 + (i % 50),
    evidence: { topIps: [{ value: '203.0.113.7', count: 900 }], firstSeen: start, lastSeen: end },
    detectedAt: end,
  };
}

function reportInput(): ReportInput {
  const cases: ReportCase[] = Array.from({ length: 100 }, (_, i) => ({
    id: `case_lic_${i}`,
    subject: { type: 'license', licenseId: `lic_${i}` },
    status: 'open',
    score: 100 - (i % 100),
    signalCount: 3,
    kinds: ['velocity', 'geo_spread'],
    openedAt: new Date(T0),
    lastSignalAt: new Date(T0 + 3_600_000),
  }));
  return {
    from: new Date(T0),
    to: new Date(T0 + 7 * 86_400_000),
    newCases: cases,
    openCases: cases,
    signalsByKind: [{ kind: 'velocity', count: 300, maxSeverity: 90 }, { kind: 'geo_spread', count: 120, maxSeverity: 60 }],
    signalsByDay: Array.from({ length: 7 }, (_, d) => ({ day: new Date(T0 + d * 86_400_000).toISOString().slice(0, 10), count: 60 })),
    topSignals: Array.from({ length: 20 }, (_, i) => ({ ...signal(i, `lic_${i}`), topIps: [{ value: '203.0.113.7', count: 900 }] })),
    keyActions: [],
    trialLinks: Array.from({ length: 200 }, (_, i) => ({ signalId: `sig_t${i}`, licenseId: `lic_t${i}`, linkedCustomers: [{ customerId: `cus_${i % 40}`, licenseId: null, sharedBy: ['card'] }] })),
  };
}

/** Pure benchmarks: scoring, roll-up into a full case, report build and rendering. */
export async function benchCasesPure(): Promise<CaseBenchRow[]> {
  const now = new Date(T0 + 10 * 86_400_000);
  const signals = Array.from({ length: 200 }, (_, i) => signal(i, 'lic_bench'));
  let full = rollUpSignal(null, signals[0]!, now).case;
  for (const next of signals.slice(1)) full = rollUpSignal(full, next, now).case;
  const timelineJson = JSON.stringify(full.timeline);
  const input = reportInput();
  const report = buildReport('rpt_bench', input, now);
  const rates = await measureBatches(
    [
      { name: 'JSON.parse(200-entry timeline)', run: () => JSON.parse(timelineJson) },
      { name: 'scoreCase(200 signals)', run: () => scoreCase(full.timeline, now) },
      { name: 'rollUpSignal(repeat into 200-entry case)', run: () => rollUpSignal(full, signals[100]!, now).case.score },
    ],
    { batch: 200 },
  );
  const reportRates = await measureBatches(
    [
      { name: 'JSON.stringify(report)', run: () => JSON.stringify(report).length },
      { name: 'buildReport(100+100 cases, 200 trial links)', run: () => buildReport('rpt_bench', input, now).summary.newCases },
      { name: 'renderReportHtml', run: () => renderReportHtml(report).length },
      { name: 'renderReportCsv', run: () => renderReportCsv(report).length },
    ],
    { batch: 5 },
  );
  const rows = (table: Map<string, number>, baseline: string): CaseBenchRow[] =>
    [...table].map(([name, rate]) => ({
      benchmark: name,
      'ops/s': format(rate),
      baseline: name === baseline ? '-' : baseline,
      ratio: (rate / (table.get(baseline) ?? Number.NaN)).toFixed(2),
    }));
  return [...rows(rates, 'JSON.parse(200-entry timeline)'), ...rows(reportRates, 'JSON.stringify(report)')];
}

/** Roll-up throughput on the embedded MongoDB-wire server, beside plain inserts of the same signals. */
export async function benchCasesStore(count = 2_000): Promise<CaseBenchRow[]> {
  const services = await startLocalServices({ persistent: false });
  const client = await new MongoClient(services.mongoUrl).connect();
  try {
    const db = client.db('bench_cases');
    const store = new MongoCaseStore({ db });
    await store.ensureIndexes();
    const spread = Array.from({ length: count }, (_, i) => signal(i, `lic_${i % 100}`));
    const hot = Array.from({ length: count / 10 }, (_, i) => signal(i, 'lic_hot'));
    const now = new Date(T0 + 86_400_000);
    const timed = async (run: () => Promise<unknown>, n: number): Promise<number> => {
      const started = process.hrtime.bigint();
      await run();
      return (n * 1e9) / Number(process.hrtime.bigint() - started);
    };
    const inserts = await timed(async () => {
      for (let i = 0; i < spread.length; i += 20) await Promise.all(spread.slice(i, i + 20).map(({ id, ...rest }) => db.collection('plain').insertOne({ _id: id as never, ...rest })));
    }, count);
    const rollUps = await timed(async () => {
      for (let i = 0; i < spread.length; i += 20) await Promise.all(spread.slice(i, i + 20).map((next) => store.recordSignal(next, now)));
    }, count);
    const contended = await timed(async () => {
      for (let i = 0; i < hot.length; i += 20) await Promise.all(hot.slice(i, i + 20).map((next) => store.recordSignal(next, now)));
    }, hot.length);
    const base = 'insertOne (20 in flight)';
    return [
      { benchmark: base, 'ops/s': format(inserts), baseline: '-', ratio: '1.00' },
      { benchmark: 'recordSignal, 100 cases (20 in flight)', 'ops/s': format(rollUps), baseline: base, ratio: (rollUps / inserts).toFixed(2) },
      { benchmark: 'recordSignal, 1 case (20 in flight, contended)', 'ops/s': format(contended), baseline: base, ratio: (contended / inserts).toFixed(2) },
    ];
  } finally {
    await client.close();
    await services.stop();
  }
}

if (isEntryPoint(import.meta.url)) {
  console.log('Abuse cases, pure (one core):');
  console.table(await benchCasesPure());
  console.log('\nCase roll-up on the embedded MongoDB-wire server:');
  console.table(await benchCasesStore());
}
