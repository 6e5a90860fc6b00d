/**
 * What an abuse report holds: the gathered facts (ReportInput, read by lib/store) and the built
 * report (ReportContent, by build-report.ts) that the HTML, JSON and CSV renderings show.
 */
import type { CountedValue, SignalEvidence, SignalKind, SignalSubject } from './abuse-signal.js';
import type { CaseAction } from './abuse-case.js';
import type { CaseSummary } from './case-summary.js';

/** A case as a report lists it: its listing summary without the decision. */
export type ReportCase = Omit<CaseSummary, 'decision'>;

/** What a report says about a case's license, so a reader knows whose key it is without looking it up. */
export interface ReportLicense {
  readonly licenseId: string;
  /** e.g. `TO-****-****-****-E05Q` */
  readonly keyMask: string;
  readonly planId: string;
  readonly status: string;
  readonly customerId: string | null;
  readonly email: string | null;
}

/** A case as the built report shows it: with its license, plain reasons and what to do next. */
export interface ReportCaseView extends ReportCase {
  /** Null for a network case, or a license that no longer exists. */
  readonly license: ReportLicense | null;
  /** One plain-language line per signal of the case listed in the report (report-signal-text.ts). */
  readonly reasons: readonly string[];
  /** The case's page in the review console. */
  readonly reviewUrl: string;
  /** The CLI command that decides it (choose the action). */
  readonly decideCommand: string;
}

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
  /** The window measured. Absent in reports gathered before it was recorded. */
  readonly window?: { readonly start: Date; readonly end: Date };
  /** Evidence the plain reason is made from (countries, referrers, linked customers, a sweep's networks and user agents, details). */
  readonly evidence?: Pick<SignalEvidence, 'countries' | 'referrers' | 'linkedCustomers' | 'networks' | 'userAgents' | 'details'>;
}

/** A signal as the built report shows it. */
export interface ReportSignalView extends ReportSignal {
  /** One plain-language line (report-signal-text.ts). */
  readonly reason: string;
  /** Countries seen, most frequent first (geo spread; empty for other kinds). */
  readonly countries: readonly string[];
  readonly license: ReportLicense | null;
  readonly caseId: string;
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
  /** The latest signal of each kind of each listed case, for its plain reasons. Default: the top signals only. */
  readonly caseSignals?: readonly ReportSignal[];
  /** The licenses of the cases and signals listed (keyed by id). Default: none known. */
  readonly licenses?: readonly ReportLicense[];
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
  readonly newCases: readonly ReportCaseView[];
  readonly openCases: readonly ReportCaseView[];
  readonly signalsByKind: ReportInput['signalsByKind'];
  /** Every day of the period, zero-filled. */
  readonly signalsByDay: ReportInput['signalsByDay'];
  readonly topSignals: readonly ReportSignalView[];
  readonly keyActions: readonly ReportKeyAction[];
  readonly trialCyclingClusters: readonly TrialCyclingCluster[];
}
