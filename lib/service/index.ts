/**
 * `keyward/service`: the license service on MongoDB (and optionally Redis), for embedding
 * without the HTTP server. Unlike the main entry, this does I/O.
 */
export { createKeyward, type Keyward, type KeywardOptions } from './create-keyward.js';
export {
  LicenseService,
  ConcurrencyError,
  type IssueRequest,
  type IssuedLicense,
  type RequestRefusal,
  type ServiceResult,
  type LicenseServiceOptions,
} from './license-service.js';
export {
  ValidationService,
  type ValidationAnswer,
  type ValidationInput,
  type RequestContext,
  type PreparedKey,
} from './validation-service.js';
export { LicenseCache, type LicenseCacheOptions } from './license-cache.js';
export { CoalescedLoader, type CoalescedLoaderOptions } from './coalesced-loader.js';
export { UsageCounter, usageMonth, type UsageStore, type UsageCounterOptions, type UsageSubject, type UsageAddition } from './usage-counter.js';
export { TokenSigner, type TokenSignerOptions } from './token-signer.js';
export type { InvalidationBus } from './invalidation-bus.js';
export { MongoLicenseStore, type MongoLicenseStoreOptions } from '../store/mongo-license-store.js';
export type { LicenseStore } from '../store/license-store.js';
export type { LicenseRecord, LicenseQuery, AuditQuery, StoredAuditEntry } from '../store/license-record.js';
export { DuplicateKeyError, DatastoreError } from '../store/datastore-error.js';
export { createKeyCipher, type KeyCipher } from '../keys/key-cipher.js';
export { CaseService, ABUSE_DETECTOR_ACTOR, type CaseServiceOptions, type CaseDecisionRequest, type CaseDecisionOutcome, type CaseDetail } from './case-service.js';
export { ReportService, dailyReportPeriod, type ReportServiceOptions, type ReportRequest } from './report-service.js';
export { MongoCaseStore, type MongoCaseStoreOptions, type CaseQuery } from '../store/mongo-case-store.js';
export { MongoAbuseSignalStore } from '../store/mongo-abuse-signal-store.js';
export { MongoReportStore, type StoredReport } from '../store/mongo-report-store.js';
