/** Rolling signals into cases: one case per subject, idempotent per signal id, reopening rules. */
import { describe, expect, it } from 'vitest';

import type { AbuseCase } from '../../lib/abuse/abuse-case.js';
import { caseIdOf } from '../../lib/abuse/case-id.js';
import { decideCase } from '../../lib/abuse/decide-case.js';
import { rollUpSignal } from '../../lib/abuse/roll-up-signal.js';
import { buildSignal } from '../support/abuse-signals.js';

const T0 = new Date('2026-11-01T12:00:00Z');
const later = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);

function opened(): AbuseCase {
  return rollUpSignal(null, buildSignal({ severity: 30 }), T0).case;
}

describe('rollUpSignal', () => {
  it('opens a case per license, and per network for key guessing', () => {
    const byLicense = rollUpSignal(null, buildSignal({ licenseId: 'lic_a' }), T0);
    expect(byLicense.change).toBe('opened');
    expect(byLicense.case).toMatchObject({ id: 'case_lic_a', status: 'open', score: 40, version: 1, decision: null });
    const network = { type: 'network', network: '203.0.113.0/24' } as const;
    const byNetwork = rollUpSignal(null, buildSignal({ kind: 'key_guessing', subject: network }), T0);
    expect(byNetwork.case.id).toBe(caseIdOf(network));
    expect(byNetwork.case.id).toMatch(/^case_net_[0-9a-f]{16}$/);
  });

  it('updates the timeline entry of a repeated signal instead of adding one', () => {
    const first = opened();
    const repeated = rollUpSignal(first, buildSignal({ severity: 50 }), later(1));
    expect(repeated.change).toBe('updated');
    expect(repeated.case.timeline).toHaveLength(1);
    expect(repeated.case.timeline[0]).toMatchObject({ severity: 50, recordedAt: T0, updatedAt: later(1) });
    expect(repeated.case.score).toBe(50);
  });

  it('adds a new signal and scores the sum', () => {
    const next = rollUpSignal(opened(), buildSignal({ kind: 'geo_spread', severity: 25, detectedAt: later(1).toISOString() }), later(1));
    expect(next.change).toBe('added');
    expect(next.case.timeline.map(({ kind }) => kind)).toEqual(['velocity', 'geo_spread']);
    expect(next.case.score).toBe(55);
    expect(next.case.version).toBe(2);
  });

  it('reopens a dismissed case when a new signal detected after the dismissal arrives', () => {
    const dismissed = decideCase(opened(), { action: 'dismiss', reviewer: 'admin:alice', reason: 'load test', at: later(2) });
    if (!dismissed.ok) throw new Error('dismiss refused');
    const signal = buildSignal({ kind: 'geo_spread', windowStart: '2026-11-01T14:00:00Z', detectedAt: '2026-11-01T15:00:00Z' });
    const next = rollUpSignal(dismissed.case, signal, later(3));
    expect(next.change).toBe('reopened');
    expect(next.case).toMatchObject({ status: 'open', reopenCount: 1 });
    expect(next.case.decision?.action).toBe('dismiss');
  });

  it('keeps a dismissed case dismissed for a repeat, or for a signal detected before the dismissal', () => {
    const dismissed = decideCase(opened(), { action: 'dismiss', reviewer: 'admin:alice', reason: 'known', at: later(2) });
    if (!dismissed.ok) throw new Error('dismiss refused');
    expect(rollUpSignal(dismissed.case, buildSignal({ severity: 35 }), later(3)).case.status).toBe('dismissed');
    const older = buildSignal({ kind: 'domain_spoofing', detectedAt: '2026-11-01T13:00:00Z' });
    const next = rollUpSignal(dismissed.case, older, later(3));
    expect(next).toMatchObject({ change: 'added', case: { status: 'dismissed', reopenCount: 0 } });
  });

  it('keeps an actioned case actioned and adds the signal to its timeline', () => {
    const actioned = decideCase(opened(), { action: 'suspend', reviewer: 'admin:bob', reason: 'resold', at: later(1) });
    if (!actioned.ok) throw new Error('suspend refused');
    const next = rollUpSignal(actioned.case, buildSignal({ kind: 'geo_spread', detectedAt: later(2).toISOString() }), later(2));
    expect(next.case.status).toBe('actioned');
    expect(next.case.timeline).toHaveLength(2);
  });
});

describe('decideCase', () => {
  it('allows only dismissal on a network case', () => {
    const network = rollUpSignal(null, buildSignal({ kind: 'key_guessing', subject: { type: 'network', network: '198.51.100.7/32' } }), T0).case;
    expect(decideCase(network, { action: 'suspend', reviewer: 'r', reason: 'x', at: T0 })).toMatchObject({ ok: false, code: 'NETWORK_CASE_DISMISS_ONLY' });
    expect(decideCase(network, { action: 'dismiss', reviewer: 'r', reason: 'x', at: T0 })).toMatchObject({ ok: true, case: { status: 'dismissed' } });
  });

  it('refuses to dismiss twice and records every decision', () => {
    const first = decideCase(opened(), { action: 'dismiss', reviewer: 'r', reason: 'x', at: T0 });
    if (!first.ok) throw new Error('refused');
    expect(decideCase(first.case, { action: 'dismiss', reviewer: 'r', reason: 'y', at: later(1) })).toMatchObject({ ok: false, code: 'CASE_ALREADY_DISMISSED' });
    const revoked = decideCase(first.case, { action: 'revoke', reviewer: 's', reason: 'z', at: later(1) });
    expect(revoked).toMatchObject({ ok: true, case: { status: 'actioned', decision: { action: 'revoke', reviewer: 's' } } });
    if (revoked.ok) expect(revoked.case.decisions).toHaveLength(2);
  });
});
