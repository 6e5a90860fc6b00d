/**
 * Webhook endpoints in MongoDB (collection `webhook_endpoints`). Each endpoint has its own
 * signing secrets, stored encrypted with the key cipher (AES-256-GCM, KEYWARD_ENCRYPTION_KEY),
 * because signing needs them in the clear; the plain secret is returned once, when it is made.
 * A rotation keeps the previous secret until the end of an overlap, and both sign meanwhile.
 */
import type { Collection, Db, Filter } from 'mongodb';

import type { KeyCipher } from '../keys/key-cipher.js';
import { newId } from '../service/new-id.js';
import type { WebhookEventType } from '../webhooks/webhook-event.js';
import { generateWebhookSecret } from '../webhooks/webhook-signature.js';
import { toDatastoreError } from './datastore-error.js';

/** Why an endpoint is disabled. */
export type EndpointDisabledReason = 'manual' | 'failing';

/** A signing secret as stored. */
export interface StoredWebhookSecret {
  readonly ciphertext: string;
  readonly createdAt: Date;
  /** End of the overlap after a rotation; null while it is the current secret. */
  readonly expiresAt: Date | null;
}

/** An endpoint as stored. */
export interface WebhookEndpointDocument {
  /** `whe_…` */
  _id: string;
  url: string;
  description: string;
  /** Event types it wants; null for all. */
  eventTypes: WebhookEventType[] | null;
  enabled: boolean;
  disabledReason: EndpointDisabledReason | null;
  disabledAt: Date | null;
  secrets: StoredWebhookSecret[];
  createdAt: Date;
  updatedAt: Date;
  /** First failed attempt since the last success; null while deliveries succeed. */
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  /** Bumped by every change of settings or secrets, to guard read-modify-write updates. */
  version: number;
}

/** An endpoint as the admin API shows it: never a secret. */
export interface WebhookEndpointView {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly eventTypes: WebhookEventType[] | null;
  readonly enabled: boolean;
  readonly disabledReason: EndpointDisabledReason | null;
  readonly disabledAt: Date | null;
  readonly failingSince: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastFailureAt: Date | null;
  /** When each secret in force was made, and when a previous one stops signing. */
  readonly secrets: ReadonlyArray<{ readonly createdAt: Date; readonly expiresAt: Date | null }>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The view of a stored endpoint. */
export function webhookEndpointView(document: WebhookEndpointDocument): WebhookEndpointView {
  return {
    id: document._id,
    url: document.url,
    description: document.description,
    eventTypes: document.eventTypes,
    enabled: document.enabled,
    disabledReason: document.disabledReason,
    disabledAt: document.disabledAt,
    failingSince: document.failingSince,
    lastSuccessAt: document.lastSuccessAt,
    lastFailureAt: document.lastFailureAt,
    secrets: document.secrets.map(({ createdAt, expiresAt }) => ({ createdAt, expiresAt })),
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
  };
}

/** What a new endpoint needs. */
export interface NewWebhookEndpoint {
  readonly url: string;
  readonly description?: string;
  readonly eventTypes?: readonly WebhookEventType[] | null;
  readonly enabled?: boolean;
}

/** Settings that may change. */
export interface WebhookEndpointChanges {
  readonly url?: string;
  readonly description?: string;
  readonly eventTypes?: readonly WebhookEventType[] | null;
  readonly enabled?: boolean;
}

/** Options for {@link MongoWebhookEndpointStore}. */
export interface MongoWebhookEndpointStoreOptions {
  /** Database to use. Required. */
  readonly db: Db;
  /** Encrypts the secrets at rest. Required. */
  readonly cipher: KeyCipher;
  /** Prefix of the collection name. Default `` (`webhook_endpoints`). */
  readonly collectionPrefix?: string;
}

/** Webhook endpoints and their secrets. */
export class MongoWebhookEndpointStore {
  readonly #endpoints: Collection<WebhookEndpointDocument>;
  readonly #cipher: KeyCipher;

  constructor(options: MongoWebhookEndpointStoreOptions) {
    this.#endpoints = options.db.collection<WebhookEndpointDocument>(`${options.collectionPrefix ?? ''}webhook_endpoints`);
    this.#cipher = options.cipher;
  }

  /** Creates an endpoint with a new secret; the plain secret is returned here only. */
  async create(input: NewWebhookEndpoint, now: Date): Promise<{ endpoint: WebhookEndpointDocument; secret: string }> {
    const secret = generateWebhookSecret();
    const enabled = input.enabled ?? true;
    const endpoint: WebhookEndpointDocument = {
      _id: newId('whe', now),
      url: input.url,
      description: input.description ?? '',
      eventTypes: input.eventTypes ? [...input.eventTypes] : null,
      enabled,
      disabledReason: enabled ? null : 'manual',
      disabledAt: enabled ? null : now,
      secrets: [{ ciphertext: this.#cipher.encrypt(secret), createdAt: now, expiresAt: null }],
      createdAt: now,
      updatedAt: now,
      failingSince: null,
      lastSuccessAt: null,
      lastFailureAt: null,
      version: 1,
    };
    try {
      await this.#endpoints.insertOne(endpoint);
    } catch (error) {
      throw toDatastoreError('createWebhookEndpoint', error);
    }
    return { endpoint, secret };
  }

  async get(id: string): Promise<WebhookEndpointDocument | null> {
    try {
      return await this.#endpoints.findOne({ _id: id });
    } catch (error) {
      throw toDatastoreError('getWebhookEndpoint', error);
    }
  }

  /** Endpoints by id, optionally only enabled or only disabled ones. */
  async list(filter: { readonly enabled?: boolean } = {}): Promise<WebhookEndpointDocument[]> {
    const query: Filter<WebhookEndpointDocument> = filter.enabled === undefined ? {} : { enabled: filter.enabled };
    try {
      return await this.#endpoints.find(query).sort({ _id: 1 }).limit(10_000).toArray();
    } catch (error) {
      throw toDatastoreError('listWebhookEndpoints', error);
    }
  }

  /** Changes settings; enabling clears a failing state. Null when there is no such endpoint. */
  async update(id: string, changes: WebhookEndpointChanges, now: Date): Promise<WebhookEndpointDocument | null> {
    const set: Partial<WebhookEndpointDocument> = { updatedAt: now };
    if (changes.url !== undefined) set.url = changes.url;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.eventTypes !== undefined) set.eventTypes = changes.eventTypes === null ? null : [...changes.eventTypes];
    if (changes.enabled === true) Object.assign(set, { enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
    if (changes.enabled === false) Object.assign(set, { enabled: false, disabledReason: 'manual', disabledAt: now });
    try {
      return await this.#endpoints.findOneAndUpdate({ _id: id }, { $set: set, $inc: { version: 1 } }, { returnDocument: 'after' });
    } catch (error) {
      throw toDatastoreError('updateWebhookEndpoint', error);
    }
  }

  /** Deletes an endpoint (its deliveries stay in the log). False when there was none. */
  async delete(id: string): Promise<boolean> {
    try {
      return (await this.#endpoints.deleteOne({ _id: id })).deletedCount === 1;
    } catch (error) {
      throw toDatastoreError('deleteWebhookEndpoint', error);
    }
  }

  /**
   * Makes a new secret; the current one keeps signing for `overlapMs` (secrets whose overlap
   * has ended are dropped). Returns the plain new secret once, or null when there is no such endpoint.
   */
  async rotateSecret(id: string, overlapMs: number, now: Date): Promise<{ endpoint: WebhookEndpointDocument; secret: string } | null> {
    const secret = generateWebhookSecret();
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        const current = await this.#endpoints.findOne({ _id: id });
        if (!current) return null;
        const ends = new Date(now.getTime() + overlapMs);
        const kept = current.secrets
          .filter((stored) => stored.expiresAt === null || stored.expiresAt.getTime() > now.getTime())
          .map((stored) => (stored.expiresAt === null || stored.expiresAt.getTime() > ends.getTime() ? { ...stored, expiresAt: ends } : stored))
          .filter((stored) => overlapMs > 0 || stored.expiresAt === null);
        const secrets = [...kept, { ciphertext: this.#cipher.encrypt(secret), createdAt: now, expiresAt: null }];
        const endpoint = await this.#endpoints.findOneAndUpdate(
          { _id: id, version: current.version },
          { $set: { secrets, updatedAt: now }, $inc: { version: 1 } },
          { returnDocument: 'after' },
        );
        if (endpoint) return { endpoint, secret };
      }
    } catch (error) {
      throw toDatastoreError('rotateWebhookSecret', error);
    }
    throw toDatastoreError('rotateWebhookSecret', new Error('the endpoint kept changing'));
  }

  /** The plain secrets that sign at `now`: the current one and any still in their overlap. */
  signingSecrets(endpoint: WebhookEndpointDocument, now: Date): string[] {
    return endpoint.secrets
      .filter((stored) => stored.expiresAt === null || stored.expiresAt.getTime() > now.getTime())
      .map((stored) => this.#cipher.decrypt(stored.ciphertext));
  }

  /**
   * Records a successful attempt: the endpoint is no longer failing. `lastSuccessAt` is kept to
   * the minute, so a busy endpoint costs a write a minute, not one per delivery.
   */
  async recordSuccess(id: string, now: Date): Promise<void> {
    try {
      await this.#endpoints.updateOne(
        { _id: id, $or: [{ failingSince: { $ne: null } }, { lastSuccessAt: null }, { lastSuccessAt: { $lt: new Date(now.getTime() - 60_000) } }] },
        { $set: { failingSince: null, lastSuccessAt: now } },
      );
    } catch (error) {
      throw toDatastoreError('recordWebhookSuccess', error);
    }
  }

  /** Records a failed attempt: the endpoint is failing since this one, unless it already was. */
  async recordFailure(id: string, now: Date): Promise<void> {
    try {
      await this.#endpoints.updateOne({ _id: id, failingSince: null }, { $set: { failingSince: now } });
      await this.#endpoints.updateOne({ _id: id }, { $set: { lastFailureAt: now } });
    } catch (error) {
      throw toDatastoreError('recordWebhookFailure', error);
    }
  }

  /**
   * Disables an enabled endpoint that has been failing since `failingBefore` or earlier, with
   * no success since. True when this call disabled it (so the operator is told once).
   */
  async disableIfFailing(id: string, failingBefore: Date, now: Date): Promise<boolean> {
    try {
      const result = await this.#endpoints.updateOne(
        { _id: id, enabled: true, failingSince: { $ne: null, $lte: failingBefore } },
        { $set: { enabled: false, disabledReason: 'failing', disabledAt: now, updatedAt: now }, $inc: { version: 1 } },
      );
      return result.modifiedCount === 1;
    } catch (error) {
      throw toDatastoreError('disableWebhookEndpoint', error);
    }
  }
}
