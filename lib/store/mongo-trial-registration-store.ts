/**
 * Trials for the trial-cycling rule, in MongoDB. Collection `trial_registrations`: one document
 * per trial license (`_id` = license id), so registering the same trial twice, or from two paths
 * (the license service at issue, billing with the card), is harmless; the device fingerprints
 * and client IPs its activations and validations show are added to it. A trial written by a
 * process that cannot evaluate it (the server, the CLI, an embedding backend) carries
 * `pendingSince` until the worker's trial watch has evaluated it.
 *
 * Collection `network_customers`: the network census, one document per (network, customer)
 * with the last time that customer's licenses were seen validating from the network, so the
 * rule can tell a campus NAT (many unrelated customers) from one person's address.
 */
import type { AnyBulkWriteOperation, Collection, Db, Filter, UpdateFilter } from 'mongodb';

import { trialNetworkOf, type TrialProfile } from '../abuse/evaluate-trial-cycling.js';
import { normalizeEmail } from '../abuse/normalize-email.js';
import type { TrialRecorder, TrialRegistration, TrialSighting } from '../abuse/trial-registration.js';
import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';

export type { TrialSighting } from '../abuse/trial-registration.js';

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
  /** {@link trialNetworkOf} of each IP: what trials are linked by. */
  networks: string[];
  stripeSubscriptionId: string | null;
  startedAt: Date;
  /** Set while the trial waits for the worker's trial watch; `null` once evaluated. */
  pendingSince: Date | null;
}

/** One customer seen on one network. */
export interface NetworkCustomerDocument {
  /** `<network>\u0000<customerId>`. */
  _id: string;
  network: string;
  customerId: string;
  lastSeenAt: Date;
}

/** One (network, customer) sighting for the census. */
export interface NetworkCustomerSighting {
  readonly network: string;
  readonly customerId: string;
  readonly seenAt: Date;
}

/** A trial waiting for evaluation, and the mark to clear once it is evaluated. */
export interface PendingTrial {
  readonly profile: TrialProfile;
  readonly pendingSince: Date;
}

/** Options for {@link MongoTrialRegistrationStore}. */
export interface MongoTrialRegistrationStoreOptions {
  readonly db: Db;
  /** Prefix of the collection names. Default `` (collections `trial_registrations`, `network_customers`). */
  readonly collectionPrefix?: string;
}

/** Most earlier trials compared with one new trial. */
const MAX_CANDIDATES = 500;
/** Counting unrelated customers on a network stops here: far past where a link's weight matters. */
const MAX_CENSUS_COUNT = 1_000;

/** Trial registrations on MongoDB. Call {@link MongoTrialRegistrationStore.ensureIndexes} once at start-up. */
export class MongoTrialRegistrationStore implements TrialRecorder {
  readonly collection: Collection<TrialRegistrationDocument>;
  readonly census: Collection<NetworkCustomerDocument>;

  constructor(options: MongoTrialRegistrationStoreOptions) {
    const prefix = options.collectionPrefix ?? '';
    this.collection = options.db.collection<TrialRegistrationDocument>(`${prefix}trial_registrations`);
    this.census = options.db.collection<NetworkCustomerDocument>(`${prefix}network_customers`);
  }

  /** One index per attribute that links trials, one for the pending queue, one for the census. */
  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndexes([
        { key: { cardFingerprint: 1 }, name: 'cardFingerprint_1' },
        { key: { emailNormalized: 1 }, name: 'emailNormalized_1' },
        { key: { deviceFingerprints: 1 }, name: 'deviceFingerprints_1' },
        { key: { networks: 1 }, name: 'networks_1' },
        { key: { pendingSince: 1 }, name: 'pendingSince_1' },
      ]);
      await this.census.createIndexes([{ key: { network: 1, lastSeenAt: 1 }, name: 'network_1_lastSeenAt_1' }]);
    } catch (error) {
      throw toDatastoreError('ensureIndexes', error);
    }
  }

  /**
   * Stores a registration, idempotent by license id: a repeat fills in what was `null` before
   * (e-mail, card, subscription) and adds its device fingerprint and IP. Returns the trial as
   * stored (for the caller to evaluate at once).
   */
  async registerOne(registration: TrialRegistration): Promise<TrialProfile> {
    const operation = registrationUpdate(registration, null);
    for (let attempt = 0; ; attempt++) {
      try {
        const document = await this.collection.findOneAndUpdate(operation.filter, operation.update, { upsert: true, returnDocument: 'after' });
        if (!document) throw new Error('upsert returned no document');
        return toProfile(document);
      } catch (error) {
        const failure = toDatastoreError('register trial', error);
        // Two paths upserting one new trial at once: the loser's retry updates the winner's document.
        if (failure instanceof DuplicateKeyError && attempt === 0) continue;
        throw failure;
      }
    }
  }

  /** {@link TrialRecorder.register}: stores trials in one bulk write and marks them pending since `now`. */
  async register(registrations: readonly TrialRegistration[], now: Date): Promise<void> {
    await this.#bulk(
      'register trials',
      registrations.map((registration) => {
        const { filter, update } = registrationUpdate(registration, now);
        return { updateOne: { filter, update, upsert: true } };
      }),
    );
  }

  /**
   * Adds sightings in one bulk write; a trial not registered yet is created with what is known.
   * With `pendingSince`, the trials are marked for the worker's trial watch.
   */
  async addSightings(sightings: readonly TrialSighting[], pendingSince: Date | null = null): Promise<void> {
    await this.#bulk(
      'add trial sightings',
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
              ...(pendingSince === null ? { pendingSince: null } : {}),
            },
            ...(pendingSince === null ? {} : { $set: { pendingSince } }),
            $addToSet: {
              deviceFingerprints: { $each: [...sighting.deviceFingerprints] },
              ips: { $each: [...sighting.ips] },
              networks: { $each: [...new Set(sighting.ips.map(trialNetworkOf))] },
            },
          },
          upsert: true,
        },
      })),
    );
  }

  /** The stored trials of the given license ids. */
  async getMany(licenseIds: readonly string[]): Promise<TrialProfile[]> {
    try {
      const documents = await this.collection.find({ _id: { $in: [...licenseIds] } }).toArray();
      return documents.map(toProfile);
    } catch (error) {
      throw toDatastoreError('read trials', error);
    }
  }

  /** Other trials that share at least one attribute with `trial` (at most 500, earliest first). */
  async findCandidates(trial: TrialProfile): Promise<TrialProfile[]> {
    const shared: Filter<TrialRegistrationDocument>[] = [];
    if (trial.cardFingerprint !== null) shared.push({ cardFingerprint: trial.cardFingerprint });
    if (trial.emailNormalized !== null) shared.push({ emailNormalized: trial.emailNormalized });
    if (trial.deviceFingerprints.length > 0) shared.push({ deviceFingerprints: { $in: [...trial.deviceFingerprints] } });
    if (trial.ips.length > 0) shared.push({ networks: { $in: [...new Set(trial.ips.map(trialNetworkOf))] } });
    if (shared.length === 0) return [];
    try {
      const documents = await this.collection
        .find({ $or: shared, _id: { $ne: trial.licenseId } })
        .sort({ startedAt: 1, _id: 1 })
        .limit(MAX_CANDIDATES)
        .toArray();
      return documents.map(toProfile);
    } catch (error) {
      throw toDatastoreError('find linked trials', error);
    }
  }

  /** Trials waiting for the trial watch, longest waiting first. */
  async findPending(limit: number): Promise<PendingTrial[]> {
    try {
      const documents = await this.collection.find({ pendingSince: { $ne: null } }).sort({ pendingSince: 1 }).limit(limit).toArray();
      return documents.map((document) => ({ profile: toProfile(document), pendingSince: document.pendingSince! }));
    } catch (error) {
      throw toDatastoreError('find pending trials', error);
    }
  }

  /** Clears a trial's pending mark, unless it was marked again since (then it stays for the next sweep). */
  async clearPending(licenseId: string, pendingSince: Date): Promise<void> {
    try {
      await this.collection.updateOne({ _id: licenseId, pendingSince }, { $set: { pendingSince: null } });
    } catch (error) {
      throw toDatastoreError('clear pending trial', error);
    }
  }

  /** Deletes a registration whose license was never written, unless it was marked again since. */
  async deleteOrphan(licenseId: string, pendingSince: Date): Promise<void> {
    try {
      await this.collection.deleteOne({ _id: licenseId, pendingSince });
    } catch (error) {
      throw toDatastoreError('delete orphan trial', error);
    }
  }

  /** Records (network, customer) sightings in the census; a later sighting moves `lastSeenAt` on. */
  async recordCensus(sightings: readonly NetworkCustomerSighting[]): Promise<void> {
    if (sightings.length === 0) return;
    try {
      await this.census.bulkWrite(
        sightings.map(({ network, customerId, seenAt }) => ({
          updateOne: {
            filter: { _id: `${network}\u0000${customerId}` },
            update: { $setOnInsert: { network, customerId }, $max: { lastSeenAt: seenAt } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (error) {
      throw toDatastoreError('record network census', error);
    }
  }

  /**
   * For each network, the customers seen on it since `since` other than `excluded` (the trial's
   * own customer and the customers of trials linked to it), counted up to 1,000.
   */
  async unrelatedCustomersOn(networks: readonly string[], excluded: ReadonlySet<string>, since: Date): Promise<Map<string, number>> {
    try {
      const counts = await Promise.all(
        [...new Set(networks)].map(
          async (network) =>
            [network, await this.census.countDocuments({ network, lastSeenAt: { $gte: since }, customerId: { $nin: [...excluded] } }, { limit: MAX_CENSUS_COUNT })] as const,
        ),
      );
      return new Map(counts);
    } catch (error) {
      throw toDatastoreError('count network census', error);
    }
  }

  /** Deletes census entries last seen before `cutoff` (retention); returns how many. */
  async deleteCensusBefore(cutoff: Date): Promise<number> {
    try {
      return (await this.census.deleteMany({ lastSeenAt: { $lt: cutoff } })).deletedCount;
    } catch (error) {
      throw toDatastoreError('delete old network census', error);
    }
  }

  async #bulk(operation: string, writes: AnyBulkWriteOperation<TrialRegistrationDocument>[]): Promise<void> {
    if (writes.length === 0) return;
    try {
      await this.collection.bulkWrite(writes, { ordered: false });
    } catch (error) {
      // A concurrent upsert of the same new trial: the repeat applies to the document now there.
      const failure = toDatastoreError(operation, error);
      if (!(failure instanceof DuplicateKeyError)) throw failure;
      try {
        await this.collection.bulkWrite(writes, { ordered: false });
      } catch (retryError) {
        throw toDatastoreError(operation, retryError);
      }
    }
  }
}

/** The upsert of one registration: known fields set, unknown ones only on insert, sets grown. */
function registrationUpdate(
  registration: TrialRegistration,
  pendingSince: Date | null,
): { filter: Filter<TrialRegistrationDocument>; update: UpdateFilter<TrialRegistrationDocument> } {
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
  put('pendingSince', pendingSince);
  const ips = registration.ip === null ? [] : [registration.ip];
  return {
    filter: { _id: registration.licenseId },
    update: {
      ...(Object.keys(known).length === 0 ? {} : { $set: known }),
      $setOnInsert: { ...unknown, customerId: registration.customerId, startedAt: registration.startedAt },
      $addToSet: {
        deviceFingerprints: { $each: registration.deviceFingerprint === null ? [] : [registration.deviceFingerprint] },
        ips: { $each: ips },
        networks: { $each: ips.map(trialNetworkOf) },
      },
    },
  };
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
