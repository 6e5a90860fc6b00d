/**
 * Abuse reports in MongoDB (collection `abuse_reports`): a report is stored `pending` when it is
 * asked for, then `ready` with its JSON content and its HTML and CSV renderings (so downloads
 * are a read), or `failed` with the reason. Daily reports have ids per day (`rpt_daily_<date>`),
 * so a schedule firing twice makes one report.
 */
import type { Collection, Db, Filter } from 'mongodb';

import type { ReportContent } from '../abuse/report-content.js';
import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';
import { SNAPSHOT_READ } from './snapshot-read.js';

/** How a report came to be. */
export type ReportTrigger = 'schedule' | 'api' | 'cli';

/** Where a report is in its life. */
export type ReportStatus = 'pending' | 'ready' | 'failed';

/** A stored report. */
export interface StoredReport {
  readonly id: string;
  readonly status: ReportStatus;
  readonly trigger: ReportTrigger;
  readonly period: { readonly from: Date; readonly to: Date };
  /** Who asked: `admin:<token name>`, `cli:<user>`, `schedule`. */
  readonly requestedBy: string;
  readonly createdAt: Date;
  readonly completedAt: Date | null;
  readonly content: ReportContent | null;
  readonly html: string | null;
  readonly csv: string | null;
  readonly error: string | null;
}

type ReportDocument = Omit<StoredReport, 'id'> & { _id: string };

/** Options for {@link MongoReportStore}. */
export interface MongoReportStoreOptions {
  /** Database. Required. */
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `abuse_reports`). */
  readonly collectionPrefix?: string;
}

const toReport = ({ _id, ...rest }: ReportDocument): StoredReport => ({ id: _id, ...rest });

/** Stored abuse reports. */
export class MongoReportStore {
  readonly collection: Collection<ReportDocument>;

  constructor(options: MongoReportStoreOptions) {
    this.collection = options.db.collection<ReportDocument>(`${options.collectionPrefix ?? ''}abuse_reports`);
  }

  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndexes([{ key: { createdAt: -1, _id: -1 }, name: 'createdAt_-1__id_-1' }]);
    } catch (error) {
      throw toDatastoreError('create report indexes', error);
    }
  }

  /** Stores a pending report; false when one with this id exists already. */
  async createPending(report: Pick<StoredReport, 'id' | 'trigger' | 'period' | 'requestedBy' | 'createdAt'>): Promise<boolean> {
    try {
      await this.collection.insertOne({
        _id: report.id,
        status: 'pending',
        trigger: report.trigger,
        period: report.period,
        requestedBy: report.requestedBy,
        createdAt: report.createdAt,
        completedAt: null,
        content: null,
        html: null,
        csv: null,
        error: null,
      });
      return true;
    } catch (error) {
      const failure = toDatastoreError('create report', error);
      if (failure instanceof DuplicateKeyError) return false;
      throw failure;
    }
  }

  /** Stores the built report and its renderings. */
  async complete(id: string, rendered: { content: ReportContent; html: string; csv: string }, at: Date): Promise<void> {
    try {
      await this.collection.updateOne({ _id: id }, { $set: { status: 'ready', completedAt: at, error: null, ...rendered } });
    } catch (error) {
      throw toDatastoreError('complete report', error);
    }
  }

  /** Marks a report failed (after its last try). */
  async fail(id: string, message: string, at: Date): Promise<void> {
    try {
      await this.collection.updateOne({ _id: id, status: { $ne: 'ready' } }, { $set: { status: 'failed', completedAt: at, error: message } });
    } catch (error) {
      throw toDatastoreError('fail report', error);
    }
  }

  async get(id: string): Promise<StoredReport | null> {
    try {
      const doc = await this.collection.findOne({ _id: id }, SNAPSHOT_READ);
      return doc ? toReport(doc) : null;
    } catch (error) {
      throw toDatastoreError('read report', error);
    }
  }

  /** Reports newest first, without their content and renderings; `before` is the previous page's last id. */
  async list(query: { readonly limit: number; readonly before?: { readonly createdAt: Date; readonly id: string } }): Promise<StoredReport[]> {
    const filter: Filter<ReportDocument> = query.before
      ? { $or: [{ createdAt: { $lt: query.before.createdAt } }, { createdAt: query.before.createdAt, _id: { $lt: query.before.id } }] }
      : {};
    try {
      const docs = await this.collection
        .find(filter, { projection: { content: 0, html: 0, csv: 0 } })
        .sort({ createdAt: -1, _id: -1 })
        .limit(query.limit)
        .toArray();
      return docs.map((doc) => toReport({ ...doc, content: null, html: null, csv: null }));
    } catch (error) {
      throw toDatastoreError('list reports', error);
    }
  }
}
