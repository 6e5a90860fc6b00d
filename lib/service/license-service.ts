/**
 * Lifecycle commands on stored licenses. Each command is decided by the pure lifecycle on the
 * license as read, then written with an update guarded by the version it was decided on; when
 * another writer got there first, the command is decided again on the fresh license. So 50
 * parallel activations of a 3-seat license give exactly 3 seats, and a revoke racing a renew
 * can never leave a revoked key valid.
 */
import { ConfigurationError, KeywardError } from '../errors/keyward-error.js';
import type { KeyCipher } from '../keys/key-cipher.js';
import { keyDigester } from '../keys/key-digest.js';
import { generateKey } from '../keys/generate-key.js';
import { DEFAULT_KEY_TYPES, type KeyTypeSet } from '../keys/key-type.js';
import { maskKey } from '../keys/mask-key.js';
import { parseKey, type MalformedKey } from '../keys/parse-key.js';
import { applyCommand } from '../lifecycle/apply-command.js';
import { trialCustomerOf, type TrialRecorder, type TrialRegistration } from '../abuse/trial-registration.js';
import type { Cause, LicenseCommand } from '../lifecycle/commands.js';
import { issueLicense } from '../lifecycle/issue-license.js';
import type { License } from '../lifecycle/license.js';
import type { LifecycleRefusal } from '../lifecycle/outcome.js';
import type { PlanCatalogue } from '../plans/plan-catalogue.js';
import { withSeats } from '../plans/plan.js';
import { describeUnknownPlan } from '../plans/unknown-plan.js';
import type { AuditQuery, LicenseQuery, LicenseRecord, StoredAuditEntry } from '../store/license-record.js';
import type { LicenseStore } from '../store/license-store.js';
import { newId } from './new-id.js';

/** Options for {@link LicenseService}. */
export interface LicenseServiceOptions {
  readonly store: LicenseStore;
  readonly plans: PlanCatalogue;
  /** HMAC secret for key digests (at least 32 bytes). */
  readonly digestSecret: string;
  readonly keyCipher: KeyCipher;
  /** Key types. Default `TO-` production and `TO-T-` trial. */
  readonly keyTypes?: KeyTypeSet;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Called after every write with the key digest, to invalidate caches. */
  readonly onChange?: (keyDigest: string) => void;
  /** Tries of one command against concurrent writers before giving up. Default 50. */
  readonly maxAttempts?: number;
  /**
   * Where new trials (and what their activations show) are recorded for the trial-cycling
   * rule, whichever path issues them. Default: none (createKeyward wires the MongoDB store).
   */
  readonly trials?: TrialRecorder;
  /** Called when recording an activation's sighting fails (the activation itself stands). Default: none. */
  readonly onError?: (error: unknown) => void;
}

/** Where a client command came from: the customer's own address, recorded for trial licenses. */
export interface ClientOrigin {
  readonly ip: string | null;
}

/** What issuing a license needs. */
export interface IssueRequest {
  readonly planId: string;
  /**
   * Machine seats bought (a per-seat Stripe price's quantity): the license's `maxActivations`
   * instead of the plan's. Only on plans with machine seats. Default: the plan's.
   */
  readonly seats?: number;
  /** Key type id. Default `trial` for trials, else `production`. */
  readonly keyType?: string;
  readonly customerId?: string | null;
  readonly trial?: boolean;
  readonly trialEndsAt?: Date;
  readonly periodEndsAt?: Date | null;
  readonly stripeSubscriptionId?: string | null;
  /** The customer's e-mail: recorded with a trial for trial-cycling checks (not on the license). */
  readonly email?: string | null;
  readonly cause?: Cause;
}

/** A refusal before any lifecycle rule: bad input to the service itself. */
export interface RequestRefusal {
  readonly code: 'UNKNOWN_PLAN' | 'UNKNOWN_KEY_TYPE' | 'NOT_FOUND' | 'MALFORMED_KEY';
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Outcome of a service command. */
export type ServiceResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly refusal: LifecycleRefusal | RequestRefusal };

/** A license and, once only at issue, its plain key. */
export interface IssuedLicense {
  readonly record: LicenseRecord;
  readonly key: string;
}

/** Another writer kept winning: a fault, answered 503 (retryable). */
export class ConcurrencyError extends KeywardError<{ readonly licenseId: string }> {
  override readonly name = 'ConcurrencyError' as const;
  constructor(licenseId: string) {
    super('CONCURRENT_UPDATE', 'The license is being changed by many requests at once; try again.', { context: { licenseId } });
  }
}

const refusal = (code: RequestRefusal['code'], message: string, details?: Readonly<Record<string, unknown>>): ServiceResult<never> => ({
  ok: false,
  refusal: { code, message, ...(details === undefined ? {} : { details }) },
});

/** Issues licenses and applies lifecycle commands to stored ones. */
export class LicenseService {
  readonly #store: LicenseStore;
  readonly #plans: PlanCatalogue;
  readonly #digest: (key: string) => string;
  readonly #cipher: KeyCipher;
  readonly #keyTypes: KeyTypeSet;
  readonly #clock: () => Date;
  readonly #onChange: (keyDigest: string) => void;
  readonly #maxAttempts: number;
  readonly #trials: TrialRecorder | undefined;
  readonly #onError: (error: unknown) => void;

  constructor(options: LicenseServiceOptions) {
    this.#store = options.store;
    this.#plans = options.plans;
    this.#digest = keyDigester(options.digestSecret); // fails fast on a weak secret
    this.#cipher = options.keyCipher;
    this.#keyTypes = options.keyTypes ?? DEFAULT_KEY_TYPES;
    this.#clock = options.clock ?? (() => new Date());
    this.#onChange = options.onChange ?? (() => undefined);
    this.#maxAttempts = options.maxAttempts ?? 50;
    this.#trials = options.trials;
    this.#onError = options.onError ?? (() => undefined);
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1) throw new ConfigurationError('maxAttempts', 'must be a positive integer');
  }

  /** The digest a key is stored under. */
  digestOf(key: string): string {
    return this.#digest(key);
  }

  /** Issues one license; the plain key is returned here and never again (see revealKey). */
  async issue(request: IssueRequest): Promise<ServiceResult<IssuedLicense>> {
    const result = await this.issueMany(1, request);
    if (!result.ok) return result;
    const [issued] = result.value;
    return issued ? { ok: true, value: issued } : refusal('UNKNOWN_PLAN', 'Nothing was issued.');
  }

  /**
   * Issues `count` licenses on the same terms, written in batches of up to 1,000.
   * `onProgress` is called with the number written so far.
   */
  async issueMany(count: number, request: IssueRequest, onProgress?: (written: number) => void): Promise<ServiceResult<IssuedLicense[]>> {
    const catalogued = this.#plans.get(request.planId);
    if (!catalogued) {
      const unknown = describeUnknownPlan(request.planId, this.#plans);
      return refusal('UNKNOWN_PLAN', unknown.message, unknown.details);
    }
    if (request.seats !== undefined && (!Number.isInteger(request.seats) || request.seats < 1 || catalogued.limits.maxActivations === null)) {
      const message = catalogued.limits.maxActivations === null ? `Plan "${catalogued.id}" has no machine seats to set.` : 'seats must be a whole number of at least 1.';
      return { ok: false, refusal: { code: 'INVALID_COMMAND', message, details: { seats: request.seats } } };
    }
    const plan = request.seats === undefined ? catalogued : withSeats(catalogued, request.seats);
    const typeId = request.keyType ?? (request.trial ? 'trial' : 'production');
    const type = this.#keyTypes.byId(typeId);
    if (!type) return refusal('UNKNOWN_KEY_TYPE', `No key type "${typeId}".`);
    const issued: IssuedLicense[] = [];
    for (let start = 0; start < count; start += 1_000) {
      const now = this.#clock();
      const batch: Array<{ issued: IssuedLicense; audit: Parameters<LicenseStore['insert']>[1] }> = [];
      for (let i = start; i < Math.min(count, start + 1_000); i++) {
        const key = generateKey({ type });
        const outcome = issueLicense(
          {
            id: newId('lic', now),
            keyDigest: this.digestOf(key),
            keyType: type.id,
            product: type.product,
            plan,
            customerId: request.customerId ?? null,
            ...(request.periodEndsAt === undefined ? {} : { periodEndsAt: request.periodEndsAt }),
            ...(request.trial === undefined ? {} : { trial: request.trial }),
            ...(request.trialEndsAt === undefined ? {} : { trialEndsAt: request.trialEndsAt }),
            ...(request.cause === undefined ? {} : { cause: request.cause }),
          },
          now,
        );
        if (!outcome.ok) return { ok: false, refusal: outcome.refusal };
        const record: LicenseRecord = {
          license: outcome.license,
          keyCiphertext: this.#cipher.encrypt(key),
          keyMask: maskKey(key, { groups: type.groups }),
          stripeSubscriptionId: request.stripeSubscriptionId ?? null,
        };
        batch.push({ issued: { record, key }, audit: outcome.audit });
      }
      // Recorded before the licenses exist, so no trial key leaves without its registration; a
      // failed insert leaves a registration of a license that never was, which links nothing new.
      const trials = batch.filter(({ issued: { record } }) => isTrial(record.license));
      if (this.#trials && trials.length > 0) {
        await this.#trials.register(
          trials.map(({ issued: { record } }) => trialRegistrationOf(record, request.email ?? null)),
          now,
        );
      }
      await this.#store.insertMany(batch.map(({ issued: { record }, audit }) => ({ record, audit })));
      for (const { issued: item } of batch) {
        issued.push(item);
        // A NOT_FOUND for this key may be cached (someone tried it early): drop it.
        this.#onChange(item.record.license.keyDigest);
      }
      onProgress?.(issued.length);
    }
    return { ok: true, value: issued };
  }

  /** Applies a lifecycle command to the license with this id. */
  async apply(licenseId: string, command: LicenseCommand): Promise<ServiceResult<LicenseRecord>> {
    return this.#applyWithRetry(() => this.#store.findById(licenseId), command, `license ${licenseId}`);
  }

  /** Applies a lifecycle command to the license of a key as typed by a client. */
  /**
   * Applies a lifecycle command to the license of a key as typed by a client. An activation of a
   * trial license records its machine fingerprint and the client's address (`origin`) for the
   * trial-cycling rule.
   */
  async applyByKey(
    key: unknown,
    command: LicenseCommand,
    origin?: ClientOrigin,
  ): Promise<ServiceResult<LicenseRecord> | { ok: false; refusal: MalformedKey }> {
    const parsed = parseKey(key, this.#keyTypes);
    if (!parsed.ok) return { ok: false, refusal: parsed.error };
    const digest = this.digestOf(parsed.key);
    const result = await this.#applyWithRetry(() => this.#store.findByDigest(digest), command, 'this key');
    if (result.ok && command.type === 'activate') await this.#recordActivation(result.value.license, command, origin?.ip ?? null);
    return result;
  }

  async #recordActivation(license: License, command: Extract<LicenseCommand, { type: 'activate' }>, ip: string | null): Promise<void> {
    if (!this.#trials || !isTrial(license)) return;
    const devices = command.kind === 'machine' ? [command.value] : [];
    if (devices.length === 0 && ip === null) return;
    try {
      await this.#trials.addSightings(
        [{ licenseId: license.id, customerId: trialCustomerOf(license.id, license.customerId), startedAt: license.createdAt, deviceFingerprints: devices, ips: ip === null ? [] : [ip] }],
        this.#clock(),
      );
    } catch (error) {
      // The seat is bound; the trial's validations will show the same device and address to the worker.
      this.#onError(error);
    }
  }

  async get(licenseId: string): Promise<LicenseRecord | null> {
    return this.#store.findById(licenseId);
  }

  /** The licenses among these ids, read in one query (ids not found are left out); for batch readers such as the abuse detector. */
  async getMany(licenseIds: readonly string[]): Promise<LicenseRecord[]> {
    return this.#store.findByIds(licenseIds);
  }

  async findBySubscription(subscriptionId: string): Promise<LicenseRecord | null> {
    return this.#store.findByStripeSubscription(subscriptionId);
  }

  async list(query: LicenseQuery): Promise<LicenseRecord[]> {
    return this.#store.list(query);
  }

  async auditTrail(licenseId: string, query: AuditQuery): Promise<StoredAuditEntry[]> {
    return this.#store.auditTrail(licenseId, query);
  }

  /** The plain key of a license, for its owner. */
  revealKey(record: LicenseRecord): string {
    return this.#cipher.decrypt(record.keyCiphertext);
  }

  async #applyWithRetry(
    read: () => Promise<LicenseRecord | null>,
    command: LicenseCommand,
    what: string,
  ): Promise<ServiceResult<LicenseRecord>> {
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const record = await read();
      if (!record) return refusal('NOT_FOUND', `No license found for ${what}.`);
      const outcome = applyCommand(record.license, command, this.#clock());
      if (!outcome.ok) return { ok: false, refusal: outcome.refusal };
      const next: LicenseRecord = { ...record, license: outcome.license };
      if (await this.#store.update(next, record.license.version, outcome.audit)) {
        this.#onChange(record.license.keyDigest);
        return { ok: true, value: next };
      }
    }
    throw new ConcurrencyError(what);
  }
}

/** A trial license: the trial flag, or a trial key type (as the abuse detector reads it). */
function isTrial(license: License): boolean {
  return license.trial !== null || license.keyType === 'trial';
}

function trialRegistrationOf(record: LicenseRecord, email: string | null): TrialRegistration {
  const { license } = record;
  return {
    licenseId: license.id,
    customerId: trialCustomerOf(license.id, license.customerId),
    email,
    cardFingerprint: null,
    deviceFingerprint: null,
    ip: null,
    stripeSubscriptionId: record.stripeSubscriptionId,
    startedAt: license.createdAt,
  };
}
