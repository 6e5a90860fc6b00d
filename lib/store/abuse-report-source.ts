/**
 * Gathers what an abuse report shows for a period [from, to), from `abuse_cases` and
 * `abuse_signals`, with aggregation where MongoDB can do the counting. Lists are bounded
 * (cases and signals at most {@link REPORT_LIST_LIMIT}, trial links at most 1,000).
 */
import type { Db } from 'mongodb';

import type { SignalKind } from '../abuse/abuse-signal.js';
import type { ReportCase, ReportInput, ReportKeyAction, ReportSignal } from '../abuse/report-content.js';
import type { AbuseCaseDocument } from './mongo-case-store.js';
import type { AbuseSignalDocument } from './mongo-abuse-signal-store.js';
import { toDatastoreError } from './datastore-error.js';

/** Most cases and signals listed per section. */
export const REPORT_LIST_LIMIT = 100;

function reportCase(doc: AbuseCaseDocument): ReportCase {
  return {
    id: doc._id,
    subject: doc.subject,
    status: doc.status,
    score: doc.score,
    signalCount: doc.timeline.length,
    kinds: [...new Set(doc.timeline.map(({ kind }) => kind))].sort(),
    openedAt: doc.openedAt,
    lastSignalAt: doc.lastSignalAt,
  };
}

/** A stored signal as a report lists it, with the evidence its plain reason is made from. */
export function reportSignalOf(doc: AbuseSignalDocument): ReportSignal {
  const { countries, referrers, linkedCustomers, networks, userAgents, details } = doc.evidence;
  return {
    id: doc._id,
    kind: doc.kind,
    subject: doc.subject,
    severity: doc.severity,
    value: doc.value,
    threshold: doc.threshold,
    detectedAt: doc.detectedAt,
    topIps: doc.evidence.topIps ?? [],
    window: doc.window,
    evidence: {
      ...(countries ? { countries } : {}),
      ...(referrers ? { referrers: referrers.slice(0, 10) } : {}),
      ...(linkedCustomers ? { linkedCustomers: linkedCustomers.slice(0, 20) } : {}),
      ...(networks ? { networks: networks.slice(0, 20) } : {}),
      ...(userAgents ? { userAgents: userAgents.slice(0, 5) } : {}),
      ...(details ? { details } : {}),
    },
  };
}

/** Reads the report input for [from, to) from `db`. */
export async function gatherReportInput(db: Db, period: { readonly from: Date; readonly to: Date }, collectionPrefix = ''): Promise<ReportInput> {
  const cases = db.collection<AbuseCaseDocument>(`${collectionPrefix}abuse_cases`);
  const signals = db.collection<AbuseSignalDocument>(`${collectionPrefix}abuse_signals`);
  const { from, to } = period;
  const inPeriod = { detectedAt: { $gte: from, $lt: to } };
  try {
    const [newCases, openCases, byKind, byDay, topSignals, actions, trials] = await Promise.all([
      cases.find({ openedAt: { $gte: from, $lt: to } }).sort({ score: -1, _id: 1 }).limit(REPORT_LIST_LIMIT).toArray(),
      cases.find({ status: 'open' }).sort({ score: -1, _id: 1 }).limit(REPORT_LIST_LIMIT).toArray(),
      signals
        .aggregate<{ _id: SignalKind; count: number; maxSeverity: number }>([
          { $match: inPeriod },
          { $group: { _id: '$kind', count: { $sum: 1 }, maxSeverity: { $max: '$severity' } } },
        ])
        .toArray(),
      signals
        .aggregate<{ _id: string; count: number }>([
          { $match: inPeriod },
          { $group: { _id: { $dateToString: { format: '%Y-%m-%d', date: '$detectedAt' } }, count: { $sum: 1 } } },
          { $sort: { _id: 1 } },
        ])
        .toArray(),
      signals.find(inPeriod).sort({ severity: -1, detectedAt: -1, _id: 1 }).limit(20).toArray(),
      cases
        .aggregate<{ _id: string; subject: AbuseCaseDocument['subject']; decision: AbuseCaseDocument['decisions'][number] }>([
          { $match: { 'decisions.at': { $gte: from, $lt: to } } },
          { $unwind: '$decisions' },
          { $match: { 'decisions.at': { $gte: from, $lt: to }, 'decisions.action': { $in: ['suspend', 'revoke'] } } },
          { $project: { subject: 1, decision: '$decisions' } },
          { $sort: { 'decision.at': 1 } },
          { $limit: REPORT_LIST_LIMIT },
        ])
        .toArray(),
      signals
        .find({ ...inPeriod, kind: 'trial_cycling' }, { projection: { subject: 1, 'evidence.linkedCustomers': 1 } })
        .limit(1_000)
        .toArray(),
    ]);
    return {
      from,
      to,
      newCases: newCases.map(reportCase),
      openCases: openCases.map(reportCase),
      signalsByKind: byKind.map(({ _id, count, maxSeverity }) => ({ kind: _id, count, maxSeverity })),
      signalsByDay: byDay.map(({ _id, count }) => ({ day: _id, count })),
      topSignals: topSignals.map(reportSignalOf),
      keyActions: actions.flatMap(({ _id, subject, decision }): ReportKeyAction[] =>
        subject.type === 'license' && decision.action !== 'dismiss'
          ? [{ caseId: _id, licenseId: subject.licenseId, action: decision.action, reviewer: decision.reviewer, reason: decision.reason, at: decision.at }]
          : [],
      ),
      trialLinks: trials.map((doc) => ({
        signalId: doc._id,
        licenseId: doc.subject.type === 'license' ? doc.subject.licenseId : null,
        linkedCustomers: doc.evidence.linkedCustomers ?? [],
      })),
    };
  } catch (error) {
    throw toDatastoreError('gather report', error);
  }
}
