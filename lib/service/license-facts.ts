/**
 * What the abuse detector needs to know about a license (plan thresholds, licensed domains,
 * whether it is a trial), read through a small LRU cache with a short TTL so a batch costs no
 * database round trip for licenses seen recently, and a plan change shows within the TTL.
 */
import { LRUCache } from 'lru-cache';

import { resolveThresholds, type DetectionThresholds } from '../abuse/detection-thresholds.js';
import type { License } from '../lifecycle/license.js';
import type { Plan } from '../plans/plan.js';

/** The detector's view of one license. */
export interface LicenseFacts {
  readonly licenseId: string;
  /** `null` for a license without a customer. */
  readonly customerId: string | null;
  readonly thresholds: DetectionThresholds;
  /** Domains activated on the license; `null` when its plan binds no domains. */
  readonly licensedDomains: readonly string[] | null;
  /** Machine seats of the license (`limits.maxActivations`); `null` when it binds no machines. */
  readonly seats?: number | null;
  /** Set for a trial license (key type `trial` or a trial end date): when the trial started. */
  readonly trialStartedAt: Date | null;
}

/** The smallest license read the detector needs (`keyward.licenses` fits). */
export interface LicenseLookup {
  get(licenseId: string): Promise<{ readonly license: License } | null>;
  /** Many at once (ids not found left out); used instead of `get` when present. */
  getMany?(licenseIds: readonly string[]): Promise<readonly { readonly license: License }[]>;
}

/** The smallest plan read the detector needs (`keyward.plans` fits). */
export interface PlanLookup {
  get(planId: string): Plan | undefined;
}

/** Options for {@link LicenseFactsCache}. */
export interface LicenseFactsCacheOptions {
  readonly licenses: LicenseLookup;
  readonly plans: PlanLookup;
  /** Licenses kept. Default 100,000. */
  readonly maxEntries?: number;
  /** How long a license's facts are trusted, in ms. Default 60,000. */
  readonly ttlMs?: number;
  /** Base thresholds that plans override. Default DEFAULT_DETECTION_THRESHOLDS. */
  readonly thresholds?: DetectionThresholds;
}

const MISSING = Symbol('missing');

/** The facts of a license, derived from the license and its plan (exported for tests). */
export function licenseFactsOf(license: License, plan: Plan | undefined, base?: DetectionThresholds): LicenseFacts {
  const domains = license.activations.filter((activation) => activation.kind === 'domain').map((activation) => activation.value);
  return {
    licenseId: license.id,
    customerId: license.customerId,
    thresholds: resolveThresholds(plan?.abuseThresholds, base),
    licensedDomains: license.limits.maxDomains === null && domains.length === 0 ? null : domains,
    seats: license.limits.maxActivations,
    trialStartedAt: license.trial !== null || license.keyType === 'trial' ? license.createdAt : null,
  };
}

/** License facts by id, cached. */
export class LicenseFactsCache {
  readonly #options: LicenseFactsCacheOptions;
  readonly #cache: LRUCache<string, LicenseFacts | typeof MISSING>;

  constructor(options: LicenseFactsCacheOptions) {
    this.#options = options;
    this.#cache = new LRUCache({ max: options.maxEntries ?? 100_000, ttl: options.ttlMs ?? 60_000 });
  }

  /** Facts for each id; an id with no license maps to `null`. Misses are read in one query when the lookup has `getMany`. */
  async getMany(licenseIds: Iterable<string>): Promise<Map<string, LicenseFacts | null>> {
    const facts = new Map<string, LicenseFacts | null>();
    const misses: string[] = [];
    for (const id of licenseIds) {
      if (facts.has(id)) continue;
      const cached = this.#cache.get(id);
      if (cached === undefined) {
        facts.set(id, null);
        misses.push(id);
      } else {
        facts.set(id, cached === MISSING ? null : cached);
      }
    }
    if (misses.length === 0) return facts;
    const lookup = this.#options.licenses;
    const records = lookup.getMany
      ? await lookup.getMany(misses)
      : (await Promise.all(misses.map((id) => lookup.get(id)))).filter((record) => record !== null);
    for (const { license } of records) {
      const value = licenseFactsOf(license, this.#options.plans.get(license.planId), this.#options.thresholds);
      this.#cache.set(license.id, value);
      facts.set(license.id, value);
    }
    for (const id of misses) if (facts.get(id) === null) this.#cache.set(id, MISSING);
    return facts;
  }
}
