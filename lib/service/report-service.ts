/**
 * Abuse reports end to end: gather (lib/store), build and render (pure, lib/abuse), store.
 * Used by the worker's report jobs and by the CLI.
 */
import type { Db } from 'mongodb';

import type { SignalSubject } from '../abuse/abuse-signal.js';
import { buildReport, utcDay } from '../abuse/build-report.js';
import type { ReportInput, ReportLicense } from '../abuse/report-content.js';
import { renderReportCsv } from '../abuse/report-csv.js';
import { renderReportHtml } from '../abuse/report-html.js';
import { gatherReportInput, reportSignalOf } from '../store/abuse-report-source.js';
import type { AbuseSignalDocument } from '../store/mongo-abuse-signal-store.js';
import type { CustomerDocument } from '../store/mongo-customer-store.js';
import { MongoLicenseStore } from '../store/mongo-license-store.js';
import { toDatastoreError } from '../store/datastore-error.js';
import type { MongoReportStore, ReportTrigger, StoredReport } from '../store/mongo-report-store.js';
import { newId } from './new-id.js';

const DAY_MS = 86_400_000;

/** Options for {@link ReportService}. */
export interface ReportServiceOptions {
  readonly db: Db;
  readonly reports: MongoReportStore;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Where the review console is, for case links (e.g. `https://keyward.example.com`). Default: server paths (`/console/cases/…`). */
  readonly consoleBaseUrl?: string;
}

/** Most signals read to give listed cases their plain reasons. */
const CASE_SIGNAL_LIMIT = 1_000;

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
  readonly #consoleBaseUrl: string;

  constructor(options: ReportServiceOptions) {
    this.#db = options.db;
    this.#reports = options.reports;
    this.#clock = options.clock ?? (() => new Date());
    this.#consoleBaseUrl = options.consoleBaseUrl ?? '';
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
    const input = await this.#withCaseFacts(await gatherReportInput(this.#db, stored.period));
    const now = this.#clock();
    const content = buildReport(id, input, now, { consoleBaseUrl: this.#consoleBaseUrl });
    await this.#reports.complete(id, { content, html: renderReportHtml(content), csv: renderReportCsv(content) }, now);
    return this.#reports.get(id);
  }

  /**
   * Adds what a reader needs beside the ids: each listed license's masked key, plan, status,
   * customer and e-mail, and the latest signals of each listed case for its plain reasons.
   */
  async #withCaseFacts(input: ReportInput): Promise<ReportInput> {
    const subjects: SignalSubject[] = [...input.newCases, ...input.openCases, ...input.topSignals].map(({ subject }) => subject);
    const licenseIds = [...new Set([...subjects.flatMap((subject) => (subject.type === 'license' ? [subject.licenseId] : [])), ...input.keyActions.map(({ licenseId }) => licenseId)])];
    const networks = [...new Set(subjects.flatMap((subject) => (subject.type === 'network' ? [subject.network] : [])))];
    try {
      const records = licenseIds.length === 0 ? [] : await new MongoLicenseStore({ db: this.#db }).findByIds(licenseIds);
      const customerIds = [...new Set(records.flatMap(({ license }) => (license.customerId === null ? [] : [license.customerId])))];
      const customers =
        customerIds.length === 0
          ? []
          : await this.#db.collection<CustomerDocument>('customers').find({ _id: { $in: customerIds } }, { projection: { email: 1 } }).toArray();
      const emails = new Map(customers.map((customer) => [customer._id, customer.email]));
      const licenses: ReportLicense[] = records.map(({ license, keyMask }) => ({
        licenseId: license.id,
        keyMask,
        planId: license.planId,
        status: license.status,
        customerId: license.customerId,
        email: license.customerId === null ? null : (emails.get(license.customerId) ?? null),
      }));
      const caseSignals =
        licenseIds.length + networks.length === 0
          ? []
          : await this.#db
              .collection<AbuseSignalDocument>('abuse_signals')
              .find({ $or: [{ 'subject.licenseId': { $in: licenseIds } }, { 'subject.network': { $in: networks } }] })
              .sort({ detectedAt: -1, _id: 1 })
              .limit(CASE_SIGNAL_LIMIT)
              .toArray();
      return { ...input, licenses, caseSignals: caseSignals.map(reportSignalOf) };
    } catch (error) {
      throw toDatastoreError('gather report facts', error);
    }
  }
}
