/**
 * Abuse case review on top of the stores: signals roll up into cases (with optional automatic
 * suspension per plan), and reviewers' decisions go through the license service, so the
 * license's audit trail says who suspended or revoked it and why, and the case records the
 * same reviewer, reason and time.
 */
import type { AbuseSignal } from '../abuse/abuse-signal.js';
import type { AbuseCase, CaseAction } from '../abuse/abuse-case.js';
import { checkCaseAction, type CaseRefusalCode } from '../abuse/decide-case.js';
import type { RollUpResult } from '../abuse/roll-up-signal.js';
import { scoreCase, type ScoreCaseOptions } from '../abuse/score-case.js';
import type { LifecycleRefusal } from '../lifecycle/outcome.js';
import type { LicenseCommand } from '../lifecycle/commands.js';
import type { PlanCatalogue } from '../plans/plan-catalogue.js';
import type { LicenseRecord } from '../store/license-record.js';
import type { MongoAbuseSignalStore } from '../store/mongo-abuse-signal-store.js';
import type { CaseQuery, MongoCaseStore } from '../store/mongo-case-store.js';
import type { LicenseService, RequestRefusal } from './license-service.js';

/** The actor of automatic suspensions, in the case and the license audit trail. */
export const ABUSE_DETECTOR_ACTOR = 'abuse-detector';

/** Options for {@link CaseService}. */
export interface CaseServiceOptions {
  readonly cases: MongoCaseStore;
  readonly signals: MongoAbuseSignalStore;
  readonly licenses: LicenseService;
  readonly plans: PlanCatalogue;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Scoring options for read-time scores; use the same as the case store's. Default: score-case.ts defaults. */
  readonly scoring?: ScoreCaseOptions;
}

/** A reviewer's decision request. */
export interface CaseDecisionRequest {
  readonly action: CaseAction;
  readonly reason: string;
  /** Who decides: `admin:<token name>`, `cli:<user>`, or {@link ABUSE_DETECTOR_ACTOR}. */
  readonly reviewer: string;
  /** External reference for the license audit trail (a request id). Default: the case id. */
  readonly ref?: string;
}

/** Outcome of a decision: the case (and the license when a command ran), or a refusal. */
export type CaseDecisionOutcome =
  | { readonly ok: true; readonly case: AbuseCase; readonly license: LicenseRecord | null }
  | {
      readonly ok: false;
      readonly refusal:
        | { readonly code: CaseRefusalCode; readonly message: string; readonly details?: Readonly<Record<string, unknown>> }
        | LifecycleRefusal
        | RequestRefusal;
    };

/** What rolling a signal did, and whether it suspended the license. */
export interface RecordSignalResult extends RollUpResult {
  /** The automatic suspension, when the plan's autoSuspendScore was exceeded. */
  readonly autoSuspension: CaseDecisionOutcome | null;
}

/** A case with its signals (and their evidence) and its score as of now. */
export interface CaseDetail {
  readonly case: AbuseCase;
  readonly currentScore: number;
  readonly signals: readonly AbuseSignal[];
}

/** Case roll-up and review. */
export class CaseService {
  readonly #cases: MongoCaseStore;
  readonly #signals: MongoAbuseSignalStore;
  readonly #licenses: LicenseService;
  readonly #plans: PlanCatalogue;
  readonly #clock: () => Date;
  readonly #scoring: ScoreCaseOptions;

  constructor(options: CaseServiceOptions) {
    this.#cases = options.cases;
    this.#signals = options.signals;
    this.#licenses = options.licenses;
    this.#plans = options.plans;
    this.#clock = options.clock ?? (() => new Date());
    this.#scoring = options.scoring ?? {};
  }

  /**
   * Rolls a stored signal into its case; then, for an open license case whose score is above
   * its plan's `abuseThresholds.autoSuspendScore`, suspends the license (reason `abuse_hold`,
   * actor {@link ABUSE_DETECTOR_ACTOR}) and marks the case actioned. Idempotent per signal id.
   */
  async recordSignal(signal: AbuseSignal): Promise<RecordSignalResult> {
    const rolled = await this.#cases.recordSignal(signal, this.#clock());
    const threshold = await this.#autoSuspendScore(rolled.case);
    if (threshold === null || rolled.case.status !== 'open' || rolled.case.score <= threshold) return { ...rolled, autoSuspension: null };
    const autoSuspension = await this.decide(rolled.case.id, {
      action: 'suspend',
      reviewer: ABUSE_DETECTOR_ACTOR,
      reason: `Case score ${rolled.case.score} is above the plan's automatic suspension score ${threshold}.`,
    });
    return { ...rolled, autoSuspension };
  }

  /**
   * Records a decision. Suspend and revoke first apply the lifecycle command (suspend
   * `abuse_hold`, revoke `abuse`) with the reviewer as actor; a refusal there leaves the case
   * unchanged. Null when there is no such case.
   */
  async decide(caseId: string, request: CaseDecisionRequest): Promise<CaseDecisionOutcome | null> {
    const current = await this.#cases.get(caseId);
    if (!current) return null;
    const allowed = checkCaseAction(current, request.action);
    if (!allowed.ok) return { ok: false, refusal: { code: allowed.code, message: allowed.message } };
    let license: LicenseRecord | null = null;
    if (request.action !== 'dismiss' && current.subject.type === 'license') {
      const cause = { actor: request.reviewer, reason: request.reason, ref: request.ref ?? caseId };
      const command: LicenseCommand =
        request.action === 'suspend'
          ? { type: 'suspend', reason: 'abuse_hold', note: request.reason, cause }
          : { type: 'revoke', reason: 'abuse', note: request.reason, cause };
      const applied = await this.#licenses.apply(current.subject.licenseId, command);
      if (!applied.ok) return { ok: false, refusal: applied.refusal };
      license = applied.value;
    }
    const decided = await this.#cases.decide(caseId, { action: request.action, reviewer: request.reviewer, reason: request.reason, at: this.#clock() });
    if (decided === null) return null;
    if (!decided.ok) return { ok: false, refusal: { code: decided.code, message: decided.message } };
    return { ok: true, case: decided.case, license };
  }

  /** Cases by score, highest first. */
  async list(query: CaseQuery): Promise<AbuseCase[]> {
    return this.#cases.list(query);
  }

  /** One case with its stored signals (evidence) and its score now; null when there is none. */
  async detail(caseId: string): Promise<CaseDetail | null> {
    const found = await this.#cases.get(caseId);
    if (!found) return null;
    const signals = await this.#signals.findByIds(found.timeline.map((entry) => entry.signalId));
    return { case: found, currentScore: scoreCase(found.timeline, this.#clock(), this.#scoring), signals };
  }

  async #autoSuspendScore(found: AbuseCase): Promise<number | null> {
    if (found.subject.type !== 'license') return null;
    const record = await this.#licenses.get(found.subject.licenseId);
    const plan = record ? this.#plans.get(record.license.planId) : undefined;
    return plan?.abuseThresholds.autoSuspendScore ?? null;
  }
}
