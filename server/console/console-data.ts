/**
 * What console pages show, read from the services: the queue (cases with their licenses and
 * customers, filtered and searched) and one case with everything a reviewer needs beside it.
 * Reads only; decisions go through the same services as the admin API (console-routes.ts).
 */
import type { Db } from 'mongodb';

import type { AbuseCase, CaseStatus } from '../../lib/abuse/abuse-case.js';
import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import { scoreCase } from '../../lib/abuse/score-case.js';
import { maskKey } from '../../lib/keys/mask-key.js';
import { parseKey } from '../../lib/keys/parse-key.js';
import type { CaseService } from '../../lib/service/case-service.js';
import type { LicenseService } from '../../lib/service/license-service.js';
import type { LicenseRecord, StoredAuditEntry } from '../../lib/store/license-record.js';
import type { CustomerDocument } from '../../lib/store/mongo-customer-store.js';

/** Most cases the queue considers per request (highest score first) before filtering and search. */
export const QUEUE_SCAN_LIMIT = 500;
/** Most rows the queue shows. */
export const QUEUE_PAGE = 100;

/** The queue's filters, as given in its query string. */
export interface QueueFilter {
  readonly status: CaseStatus | 'any';
  /** A signal kind the case must have. */
  readonly kind: string | null;
  /** Only cases with a signal in the last this many days. */
  readonly ageDays: number | null;
  /** Matched against case id, license id, customer id, e-mail and masked key (a full key is masked first). */
  readonly search: string;
}

/** One row of the queue. */
export interface QueueRow {
  readonly found: AbuseCase;
  readonly license: LicenseRecord | null;
  readonly email: string | null;
}

/** Everything a case page shows. */
export interface CaseView {
  readonly found: AbuseCase;
  readonly currentScore: number;
  readonly signals: readonly AbuseSignal[];
  readonly license: LicenseRecord | null;
  readonly email: string | null;
  /** Newest first. */
  readonly audit: readonly StoredAuditEntry[];
  /** The case's score right after each signal arrived, oldest first. */
  readonly scoreHistory: readonly { readonly at: Date; readonly score: number; readonly kind: string }[];
  /** Earlier trials linked by trial-cycling signals, with their licenses where they still exist. */
  readonly relatedTrials: readonly { readonly customerId: string; readonly licenseId: string | null; readonly sharedBy: readonly string[]; readonly license: LicenseRecord | null }[];
}

/** What the console reads through. */
export interface ConsoleReadDeps {
  readonly cases: CaseService;
  readonly licenses: LicenseService;
  readonly db: Db;
}

async function emailsOf(db: Db, customerIds: readonly string[]): Promise<Map<string, string | null>> {
  if (customerIds.length === 0) return new Map();
  const customers = await db
    .collection<CustomerDocument>('customers')
    .find({ _id: { $in: [...customerIds] } }, { projection: { email: 1 } })
    .toArray();
  return new Map(customers.map((customer) => [customer._id, customer.email]));
}

/** The needle a search compares with: a full key becomes its masked form; everything lower case. */
export function searchNeedle(search: string): string {
  const trimmed = search.trim();
  const parsed = parseKey(trimmed);
  return (parsed.ok ? maskKey(parsed.key) : trimmed).toLowerCase();
}

/** Whether a row matches a search (empty matches all). */
export function matchesSearch(row: QueueRow, needle: string): boolean {
  if (needle === '') return true;
  const fields = [
    row.found.id,
    row.found.subject.type === 'license' ? row.found.subject.licenseId : row.found.subject.network,
    row.license?.license.customerId ?? '',
    row.email ?? '',
    row.license?.keyMask ?? '',
  ];
  return fields.some((field) => field.toLowerCase().includes(needle));
}

/** The queue: cases by score, filtered and searched. */
export async function loadQueue(deps: ConsoleReadDeps, filter: QueueFilter, now: Date): Promise<QueueRow[]> {
  const candidates = await deps.cases.list({ ...(filter.status === 'any' ? {} : { status: filter.status }), limit: QUEUE_SCAN_LIMIT });
  const since = filter.ageDays === null ? null : now.getTime() - filter.ageDays * 86_400_000;
  const kept = candidates.filter(
    (found) => (filter.kind === null || found.timeline.some(({ kind }) => kind === filter.kind)) && (since === null || found.lastSignalAt.getTime() >= since),
  );
  const licenseIds = kept.flatMap(({ subject }) => (subject.type === 'license' ? [subject.licenseId] : []));
  const records = new Map((await deps.licenses.getMany(licenseIds)).map((record) => [record.license.id, record]));
  const emails = await emailsOf(deps.db, [...new Set([...records.values()].flatMap(({ license }) => (license.customerId === null ? [] : [license.customerId])))]);
  const needle = searchNeedle(filter.search);
  return kept
    .map((found): QueueRow => {
      const license = found.subject.type === 'license' ? (records.get(found.subject.licenseId) ?? null) : null;
      const customerId = license?.license.customerId ?? null;
      return { found, license, email: customerId === null ? null : (emails.get(customerId) ?? null) };
    })
    .filter((row) => matchesSearch(row, needle))
    .slice(0, QUEUE_PAGE);
}

/** One case with its license, customer, audit trail, score history and related trials; null when there is none. */
export async function loadCase(deps: ConsoleReadDeps, caseId: string): Promise<CaseView | null> {
  const detail = await deps.cases.detail(caseId);
  if (!detail) return null;
  const found = detail.case;
  const license = found.subject.type === 'license' ? await deps.licenses.get(found.subject.licenseId) : null;
  const customerId = license?.license.customerId ?? null;
  const email = customerId === null ? null : ((await emailsOf(deps.db, [customerId])).get(customerId) ?? null);
  const audit = license === null ? [] : (await deps.licenses.auditTrail(license.license.id, { limit: 500 })).reverse().slice(0, 100);
  const scoreHistory = found.timeline.map((entry, i) => ({ at: entry.recordedAt, score: scoreCase(found.timeline.slice(0, i + 1), entry.recordedAt), kind: entry.kind }));
  const links = new Map<string, { customerId: string; licenseId: string | null; sharedBy: Set<string> }>();
  for (const signal of detail.signals) {
    for (const linked of signal.evidence.linkedCustomers ?? []) {
      const key = `${linked.customerId}|${linked.licenseId ?? ''}`;
      const held = links.get(key) ?? { customerId: linked.customerId, licenseId: linked.licenseId, sharedBy: new Set<string>() };
      for (const what of linked.sharedBy) held.sharedBy.add(what);
      links.set(key, held);
    }
  }
  const linkedIds = [...links.values()].flatMap(({ licenseId }) => (licenseId === null ? [] : [licenseId]));
  const linkedRecords = new Map((await deps.licenses.getMany(linkedIds)).map((record) => [record.license.id, record]));
  return {
    found,
    currentScore: detail.currentScore,
    signals: [...detail.signals].sort((a, b) => b.detectedAt.getTime() - a.detectedAt.getTime() || a.id.localeCompare(b.id)),
    license,
    email,
    audit,
    scoreHistory,
    relatedTrials: [...links.values()].map((link) => ({
      customerId: link.customerId,
      licenseId: link.licenseId,
      sharedBy: [...link.sharedBy].sort(),
      license: link.licenseId === null ? null : (linkedRecords.get(link.licenseId) ?? null),
    })),
  };
}
