/**
 * Abuse cases in MongoDB (collection `abuse_cases`, `_id` = the deterministic case id). Every
 * change is computed by the pure roll-up or decision rules on the case as read and written with
 * a single-document update guarded by its version; a writer that lost the race reads again and
 * recomputes. No transactions, so it runs on mongo-java-server too.
 */
import type { Collection, Db, Filter } from 'mongodb';

import type { AbuseSignal } from '../abuse/abuse-signal.js';
import type { AbuseCase, CaseDecision, CaseStatus } from '../abuse/abuse-case.js';
import { caseIdOf } from '../abuse/case-id.js';
import { decideCase, type CaseDecisionResult } from '../abuse/decide-case.js';
import { rollUpSignal, type RollUpResult } from '../abuse/roll-up-signal.js';
import type { ScoreCaseOptions } from '../abuse/score-case.js';
import { KeywardError } from '../errors/keyward-error.js';
import { caseWebhookEvents } from '../webhooks/case-events.js';
import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';
import { PENDING_WEBHOOK_EVENTS_INDEX, withPendingWebhookEvents, type PendingWebhookEvents } from './mongo-webhook-relay.js';
import { SNAPSHOT_READ } from './snapshot-read.js';

/** A case as stored. */
export type AbuseCaseDocument = Omit<AbuseCase, 'id'> & { _id: string } & PendingWebhookEvents;

/** Options for {@link MongoCaseStore}. */
export interface MongoCaseStoreOptions {
  /** Database. Required. */
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `abuse_cases`). */
  readonly collectionPrefix?: string;
  /** Scoring options (half-life, cap). Default: score-case.ts defaults. */
  readonly scoring?: ScoreCaseOptions;
  /** Tries of one change against concurrent writers before giving up. Default 50. */
  readonly maxAttempts?: number;
}

/** Position in the by-score listing: the last case of the previous page. */
export interface CaseCursor {
  readonly score: number;
  readonly id: string;
}

/** A listing: highest score first, then by id. */
export interface CaseQuery {
  readonly status?: CaseStatus;
  /** Only cases scoring at least this. */
  readonly minScore?: number;
  /** Cases after this one. */
  readonly after?: CaseCursor;
  readonly limit: number;
}

/** Another writer kept winning on one case: a fault, answered 503 (retryable). */
export class CaseConcurrencyError extends KeywardError<{ readonly caseId: string }> {
  override readonly name = 'CaseConcurrencyError' as const;
  constructor(caseId: string) {
    super('CONCURRENT_UPDATE', 'The case is being changed by many writers at once; try again.', { context: { caseId } });
  }
}

const toCase = ({ _id, ...rest }: AbuseCaseDocument): AbuseCase => {
  const { pendingWebhookEvents: _events, ...fields } = rest;
  return { id: _id, ...fields };
};
const toDocument = ({ id, ...rest }: AbuseCase): AbuseCaseDocument => ({ _id: id, ...rest });

/** Cases: roll-up, listing, decisions. */
export class MongoCaseStore {
  readonly collection: Collection<AbuseCaseDocument>;
  readonly #scoring: ScoreCaseOptions;
  readonly #maxAttempts: number;
  /** Roll-ups in flight in this process, by case id: later ones wait, so they do not lose races to each other. */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  /** The webhook events still pending on each case as read, so that a replace of it carries them. */
  readonly #pendingEvents = new WeakMap<AbuseCase, PendingWebhookEvents>();

  constructor(options: MongoCaseStoreOptions) {
    this.collection = options.db.collection<AbuseCaseDocument>(`${options.collectionPrefix ?? ''}abuse_cases`);
    this.#scoring = options.scoring ?? {};
    this.#maxAttempts = options.maxAttempts ?? 50;
  }

  /** Creates the listing index (status, score descending, id). */
  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndexes([
        { key: { status: 1, score: -1, _id: 1 }, name: 'status_1_score_-1__id_1' },
        { key: { score: -1, _id: 1 }, name: 'score_-1__id_1' },
        { key: { openedAt: 1 }, name: 'openedAt_1' },
        PENDING_WEBHOOK_EVENTS_INDEX,
      ]);
    } catch (error) {
      throw toDatastoreError('create case indexes', error);
    }
  }

  async get(id: string): Promise<AbuseCase | null> {
    try {
      const doc = await this.collection.findOne({ _id: id }, SNAPSHOT_READ);
      if (!doc) return null;
      const found = toCase(doc);
      this.#pendingEvents.set(found, doc);
      return found;
    } catch (error) {
      throw toDatastoreError('read case', error);
    }
  }

  /**
   * Rolls a signal into its case (rollUpSignal). Idempotent per signal id and safe under
   * concurrent calls: each write is guarded by the version (or, for a new case, by `_id`), so
   * writers in other processes retry; calls for one case within this process are queued, so
   * they do not spend their tries racing each other.
   */
  async recordSignal(signal: AbuseSignal, now: Date): Promise<RollUpResult> {
    const id = caseIdOf(signal.subject);
    const previous = this.#inFlight.get(id) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() =>
        this.#change(id, async () => {
          const current = await this.get(id);
          const result = rollUpSignal(current, signal, now, this.#scoring);
          return (await this.#write(current, result.case)) ? result : null;
        }),
      );
    this.#inFlight.set(id, run);
    try {
      return await run;
    } finally {
      // Only the last caller in the chain clears it; the map holds at most the cases in flight.
      if (this.#inFlight.get(id) === run) this.#inFlight.delete(id);
    }
  }

  /** Records a decision (decideCase) on the case with this id; null when there is no such case. */
  async decide(id: string, decision: CaseDecision): Promise<CaseDecisionResult | null> {
    return this.#change(id, async () => {
      const current = await this.get(id);
      if (!current) return { found: false as const };
      const result = decideCase(current, decision);
      if (!result.ok) return { found: true as const, result };
      return (await this.#write(current, result.case)) ? { found: true as const, result } : null;
    }).then((outcome) => (outcome.found ? outcome.result : null));
  }

  /** Cases by score (highest first), then id; filtered by status and minimum score. */
  async list(query: CaseQuery): Promise<AbuseCase[]> {
    const filter: Filter<AbuseCaseDocument> = {
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.minScore === undefined ? {} : { score: { $gte: query.minScore } }),
    };
    const conditions: Filter<AbuseCaseDocument>[] = [filter];
    if (query.after) {
      conditions.push({ $or: [{ score: { $lt: query.after.score } }, { score: query.after.score, _id: { $gt: query.after.id } }] });
    }
    try {
      const docs = await this.collection
        .find(conditions.length === 1 ? filter : { $and: conditions })
        .sort({ score: -1, _id: 1 })
        .limit(query.limit)
        .toArray();
      return docs.map(toCase);
    } catch (error) {
      throw toDatastoreError('list cases', error);
    }
  }

  /** Runs `attempt` until it returns a value (null = lost a race, try again). */
  async #change<T>(caseId: string, attempt: () => Promise<T | null>): Promise<T> {
    for (let i = 0; i < this.#maxAttempts; i++) {
      const result = await attempt();
      if (result !== null) return result;
    }
    throw new CaseConcurrencyError(caseId);
  }

  /** Writes `next` if the stored case is still `current`; false when another writer won. */
  async #write(current: AbuseCase | null, next: AbuseCase): Promise<boolean> {
    try {
      // The case's webhook events are written with it, in the same single-document write.
      const events = caseWebhookEvents(current, next);
      if (current === null) {
        await this.collection.insertOne(withPendingWebhookEvents(toDocument(next), null, events));
        return true;
      }
      const { _id, ...fields } = withPendingWebhookEvents(toDocument(next), this.#pendingEvents.get(current) ?? null, events);
      const written = await this.collection.replaceOne({ _id, version: current.version }, fields);
      return written.matchedCount === 1;
    } catch (error) {
      const failure = toDatastoreError('write case', error);
      if (failure instanceof DuplicateKeyError) return false;
      throw failure;
    }
  }
}
