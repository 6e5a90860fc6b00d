/**
 * Abuse reports end to end: gather (lib/store), build and render (pure, lib/abuse), store.
 * Used by the worker's report jobs and by the CLI.
 */
import type { Db } from 'mongodb';

import { buildReport, utcDay } from '../abuse/build-report.js';
import { renderReportCsv } from '../abuse/report-csv.js';
import { renderReportHtml } from '../abuse/report-html.js';
import { gatherReportInput } from '../store/abuse-report-source.js';
import type { MongoReportStore, ReportTrigger, StoredReport } from '../store/mongo-report-store.js';
import { newId } from './new-id.js';

const DAY_MS = 86_400_000;

/** Options for {@link ReportService}. */
export interface ReportServiceOptions {
  readonly db: Db;
  readonly reports: MongoReportStore;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/** A report to make. */
export interface ReportRequest {
  readonly from: Date;
  readonly to: Date;
  readonly trigger: ReportTrigger;
  readonly requestedBy: string;
}

/** The period of the daily report made at `now`: the previous UTC day. */
export function dailyReportPeriod(now: Date): { from: Date; to: Date } {
  const to = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  return { from: new Date(to.getTime() - DAY_MS), to };
}

/** Makes and stores abuse reports. */
export class ReportService {
  readonly #db: Db;
  readonly #reports: MongoReportStore;
  readonly #clock: () => Date;

  constructor(options: ReportServiceOptions) {
    this.#db = options.db;
    this.#reports = options.reports;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Stores a pending on-demand report and answers its id (a worker job, or {@link generate}, fills it). */
  async request(request: ReportRequest): Promise<string> {
    const now = this.#clock();
    const id = newId('rpt', now);
    await this.#reports.createPending({ id, trigger: request.trigger, period: { from: request.from, to: request.to }, requestedBy: request.requestedBy, createdAt: now });
    return id;
  }

  /**
   * Stores the pending daily report for the day before `now` (id `rpt_daily_<day>`), unless it
   * exists; answers its id and whether it still needs generating.
   */
  async requestDaily(): Promise<{ id: string; due: boolean }> {
    const now = this.#clock();
    const period = dailyReportPeriod(now);
    const id = `rpt_daily_${utcDay(period.from)}`;
    const created = await this.#reports.createPending({ id, trigger: 'schedule', period, requestedBy: 'schedule', createdAt: now });
    return { id, due: created || (await this.#reports.get(id))?.status !== 'ready' };
  }

  /** Gathers, builds and renders the report with this id, and stores it ready. Null when there is no such report. */
  async generate(id: string): Promise<StoredReport | null> {
    const stored = await this.#reports.get(id);
    if (!stored) return null;
    const input = await gatherReportInput(this.#db, stored.period);
    const now = this.#clock();
    const content = buildReport(id, input, now);
    await this.#reports.complete(id, { content, html: renderReportHtml(content), csv: renderReportCsv(content) }, now);
    return this.#reports.get(id);
  }
}
