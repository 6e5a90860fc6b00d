/**
 * What an abuse report holds: the gathered facts (ReportInput, read by lib/store) and the built
 * report (ReportContent, by build-report.ts) that the HTML, JSON and CSV renderings show.
 */
import type { CountedValue, SignalKind, SignalSubject } from './abuse-signal.js';
import type { CaseAction } from './abuse-case.js';
import type { CaseSummary } from './case-summary.js';

/** A case as a report lists it: its listing summary without the decision. */
export type ReportCase = Omit<CaseSummary, 'decision'>;

/** A signal as a report lists it. */
export interface ReportSignal {
  readonly id: string;
  readonly kind: SignalKind;
  readonly subject: SignalSubject;
  readonly severity: number;
  readonly value: number;
  readonly threshold: number;
  readonly detectedAt: Date;
  readonly topIps: readonly CountedValue[];
}

/** A suspension or revocation decided on a case in the period. */
export interface ReportKeyAction {
  readonly caseId: string;
  readonly licenseId: string;
  readonly action: Exclude<CaseAction, 'dismiss'>;
  readonly reviewer: string;
  readonly reason: string;
  readonly at: Date;
}

/** A trial-cycling signal's links: the new trial's license and the earlier customers it shares something with. */
export interface ReportTrialLinks {
  readonly signalId: string;
  readonly licenseId: string | null;
  readonly linkedCustomers: readonly { readonly customerId: string; readonly licenseId: string | null; readonly sharedBy: readonly string[] }[];
}

/** Facts gathered for a period [from, to). */
export interface ReportInput {
  readonly from: Date;
  readonly to: Date;
  readonly newCases: readonly ReportCase[];
  readonly openCases: readonly ReportCase[];
  readonly signalsByKind: readonly { readonly kind: SignalKind; readonly count: number; readonly maxSeverity: number }[];
  /** Signals per UTC day (`YYYY-MM-DD`), days without signals absent. */
  readonly signalsByDay: readonly { readonly day: string; readonly count: number }[];
  readonly topSignals: readonly ReportSignal[];
  readonly keyActions: readonly ReportKeyAction[];
  readonly trialLinks: readonly ReportTrialLinks[];
}

/** Customers (and their licenses) linked by trial-cycling signals into one group. */
export interface TrialCyclingCluster {
  readonly customers: readonly string[];
  readonly licenses: readonly string[];
  /** What links them: `card`, `email`, `device`, `ip`, … */
  readonly sharedBy: readonly string[];
  readonly signals: number;
}

/** The built report. */
export interface ReportContent {
  readonly reportId: string;
  readonly period: { readonly from: Date; readonly to: Date };
  readonly generatedAt: Date;
  readonly summary: {
    readonly newCases: number;
    readonly openCases: number;
    readonly signals: number;
    readonly keysSuspended: number;
    readonly keysRevoked: number;
    readonly trialCyclingClusters: number;
  };
  readonly newCases: readonly ReportCase[];
  readonly openCases: readonly ReportCase[];
  readonly signalsByKind: ReportInput['signalsByKind'];
  /** Every day of the period, zero-filled. */
  readonly signalsByDay: ReportInput['signalsByDay'];
  readonly topSignals: readonly ReportSignal[];
  readonly keyActions: readonly ReportKeyAction[];
  readonly trialCyclingClusters: readonly TrialCyclingCluster[];
}
