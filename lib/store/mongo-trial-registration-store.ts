/**
 * Trials for the trial-cycling rule, in MongoDB (collection `trial_registrations`), one document
 * per trial license (`_id` = license id), so registering the same trial twice is harmless. The
 * device fingerprints and IPs that the trial's validations show are added to its document.
 */
import type { Collection, Db, Filter } from 'mongodb';

import type { TrialProfile } from '../abuse/evaluate-trial-cycling.js';
import { normalizeEmail } from '../abuse/normalize-email.js';
import type { TrialRegistration } from '../abuse/trial-registration.js';
import { toDatastoreError } from './datastore-error.js';

/** A stored trial. */
export interface TrialRegistrationDocument {
  /** The trial's license id. */
  _id: string;
  customerId: string;
  email: string | null;
  emailNormalized: string | null;
  cardFingerprint: string | null;
  deviceFingerprints: string[];
  ips: string[];
  stripeSubscriptionId: string | null;
  startedAt: Date;
}

/** Device fingerprints and IPs seen in one trial license's validations. */
export interface TrialSighting {
  readonly licenseId: string;
  /** Used when the trial was never registered by billing (e.g. issued by an operator). */
  readonly customerId: string;
  readonly startedAt: Date;
  readonly deviceFingerprints: readonly string[];
  readonly ips: readonly string[];
}

/** Options for {@link MongoTrialRegistrationStore}. */
export interface MongoTrialRegistrationStoreOptions {
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `trial_registrations`). */
  readonly collectionPrefix?: string;
}

/** Most earlier trials compared with one new trial. */
const MAX_CANDIDATES = 500;

/** Trial registrations on MongoDB. Call {@link MongoTrialRegistrationStore.ensureIndexes} once at start-up. */
export class MongoTrialRegistrationStore {
  readonly collection: Collection<TrialRegistrationDocument>;

  constructor(options: MongoTrialRegistrationStoreOptions) {
    this.collection = options.db.collection<TrialRegistrationDocument>(`${options.collectionPrefix ?? ''}trial_registrations`);
  }

  /** One index per attribute that links trials. */
  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndexes([
        { key: { cardFingerprint: 1 }, name: 'cardFingerprint_1' },
        { key: { emailNormalized: 1 }, name: 'emailNormalized_1' },
        { key: { deviceFingerprints: 1 }, name: 'deviceFingerprints_1' },
        { key: { ips: 1 }, name: 'ips_1' },
      ]);
    } catch (error) {
      throw toDatastoreError('ensureIndexes', error);
    }
  }

  /**
   * Stores a registration, idempotent by license id: a repeat fills in what was `null` before
   * (e-mail, card, subscription) and adds its device fingerprint and IP.
   */
  async register(registration: TrialRegistration): Promise<TrialProfile> {
    const known: Partial<TrialRegistrationDocument> = {};
    const unknown: Partial<TrialRegistrationDocument> = {};
    const put = <K extends keyof TrialRegistrationDocument>(field: K, value: TrialRegistrationDocument[K] | null) => {
      if (value === null) unknown[field] = null as TrialRegistrationDocument[K];
      else known[field] = value;
    };
    put('email', registration.email);
    put('emailNormalized', registration.email === null ? null : normalizeEmail(registration.email));
    put('cardFingerprint', registration.cardFingerprint);
    put('stripeSubscriptionId', registration.stripeSubscriptionId);
    try {
      const document = await this.collection.findOneAndUpdate(
        { _id: registration.licenseId },
        {
          $set: known,
          $setOnInsert: { ...unknown, customerId: registration.customerId, startedAt: registration.startedAt },
          $addToSet: {
            deviceFingerprints: { $each: registration.deviceFingerprint === null ? [] : [registration.deviceFingerprint] },
            ips: { $each: registration.ip === null ? [] : [registration.ip] },
          },
        },
        { upsert: true, returnDocument: 'after' },
      );
      if (!document) throw new Error('upsert returned no document');
      return toProfile(document);
    } catch (error) {
      throw toDatastoreError('register trial', error);
    }
  }

  /** Adds sightings in one bulk write; a trial not registered yet is created with what is known. */
  async addSightings(sightings: readonly TrialSighting[]): Promise<void> {
    if (sightings.length === 0) return;
    try {
      await this.collection.bulkWrite(
        sightings.map((sighting) => ({
          updateOne: {
            filter: { _id: sighting.licenseId },
            update: {
              $setOnInsert: {
                customerId: sighting.customerId,
                startedAt: sighting.startedAt,
                email: null,
                emailNormalized: null,
                cardFingerprint: null,
                stripeSubscriptionId: null,
              },
              $addToSet: { deviceFingerprints: { $each: [...sighting.deviceFingerprints] }, ips: { $each: [...sighting.ips] } },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (error) {
      throw toDatastoreError('add trial sightings', error);
    }
  }

  /** The stored trials of the given license ids. */
  async getMany(licenseIds: readonly string[]): Promise<TrialProfile[]> {
    const documents = await this.collection.find({ _id: { $in: [...licenseIds] } }).toArray();
    return documents.map(toProfile);
  }

  /** Other trials that share at least one attribute with `trial` (at most 500, earliest first). */
  async findCandidates(trial: TrialProfile): Promise<TrialProfile[]> {
    const shared: Filter<TrialRegistrationDocument>[] = [];
    if (trial.cardFingerprint !== null) shared.push({ cardFingerprint: trial.cardFingerprint });
    if (trial.emailNormalized !== null) shared.push({ emailNormalized: trial.emailNormalized });
    if (trial.deviceFingerprints.length > 0) shared.push({ deviceFingerprints: { $in: [...trial.deviceFingerprints] } });
    if (trial.ips.length > 0) shared.push({ ips: { $in: [...trial.ips] } });
    if (shared.length === 0) return [];
    try {
      const documents = await this.collection
        .find({ $or: shared, _id: { $ne: trial.licenseId } })
        .sort({ startedAt: 1 })
        .limit(MAX_CANDIDATES)
        .toArray();
      return documents.map(toProfile);
    } catch (error) {
      throw toDatastoreError('find linked trials', error);
    }
  }
}

function toProfile(document: TrialRegistrationDocument): TrialProfile {
  return {
    licenseId: document._id,
    customerId: document.customerId,
    emailNormalized: document.emailNormalized,
    cardFingerprint: document.cardFingerprint,
    deviceFingerprints: document.deviceFingerprints ?? [],
    ips: document.ips ?? [],
    startedAt: document.startedAt,
  };
}
