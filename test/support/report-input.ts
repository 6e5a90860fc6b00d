/** Report inputs for pure report tests: a small, realistic day with hostile text in it. */
import type { ReportInput } from '../../lib/abuse/report-content.js';

/** A report input for 2026-11-01 (UTC) with cases, signals, a suspension and trial links. */
export function sampleReportInput(overrides: Partial<ReportInput> = {}): ReportInput {
  const at = (time: string) => new Date(`2026-11-01T${time}Z`);
  return {
    from: at('00:00:00'),
    to: new Date('2026-11-02T00:00:00Z'),
    newCases: [
      { id: 'case_lic_a', subject: { type: 'license', licenseId: 'lic_a' }, status: 'open', score: 80, signalCount: 2, kinds: ['geo_spread', 'velocity'], openedAt: at('09:00:00'), lastSignalAt: at('11:00:00') },
      { id: 'case_net_1', subject: { type: 'network', network: '203.0.113.0/24' }, status: 'open', score: 35, signalCount: 1, kinds: ['key_guessing'], openedAt: at('10:00:00'), lastSignalAt: at('10:00:00') },
    ],
    openCases: [
      { id: 'case_lic_a', subject: { type: 'license', licenseId: 'lic_a' }, status: 'open', score: 80, signalCount: 2, kinds: ['geo_spread', 'velocity'], openedAt: at('09:00:00'), lastSignalAt: at('11:00:00') },
    ],
    signalsByKind: [
      { kind: 'velocity', count: 3, maxSeverity: 60 },
      { kind: 'trial_cycling', count: 2, maxSeverity: 50 },
    ],
    signalsByDay: [{ day: '2026-11-01', count: 5 }],
    topSignals: [
      { id: 'sig_velocity_lic_a_1', kind: 'velocity', subject: { type: 'license', licenseId: 'lic_a' }, severity: 60, value: 1_800, threshold: 1_000, detectedAt: at('11:00:00'), topIps: [{ value: '203.0.113.7', count: 900 }] },
    ],
    keyActions: [
      { caseId: 'case_lic_b', licenseId: 'lic_b', action: 'suspend', reviewer: 'admin:alice', reason: '<script>alert("x")</script>, "resold", =cmd', at: at('12:00:00') },
    ],
    trialLinks: [
      { signalId: 'sig_t1', licenseId: 'lic_t2', linkedCustomers: [{ customerId: 'cus_1', licenseId: 'lic_t1', sharedBy: ['card'] }] },
      { signalId: 'sig_t2', licenseId: 'lic_t3', linkedCustomers: [{ customerId: 'cus_2', licenseId: 'lic_t2', sharedBy: ['email'] }, { customerId: 'cus_1', licenseId: 'lic_t1', sharedBy: ['card'] }] },
      { signalId: 'sig_t3', licenseId: 'lic_x2', linkedCustomers: [{ customerId: 'cus_9', licenseId: 'lic_x1', sharedBy: ['ip'] }] },
    ],
    ...overrides,
  };
}
