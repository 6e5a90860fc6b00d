import { describe, expect, it } from 'vitest';

import { DEFAULT_DETECTION_THRESHOLDS, resolveThresholds } from '../../lib/abuse/detection-thresholds.js';
import { evaluateGeoSpread } from '../../lib/abuse/evaluate-geo-spread.js';
import { evaluateKeyGuessing } from '../../lib/abuse/evaluate-key-guessing.js';
import { evaluateVelocity } from '../../lib/abuse/evaluate-velocity.js';
import { signalIdOf } from '../../lib/abuse/signal-id.js';

const DEFAULTS = DEFAULT_DETECTION_THRESHOLDS;

describe('evaluateVelocity', () => {
  it.each([
    ['a shared key in a burst', 3000, 400, true],
    ['just over both thresholds', 1001, 50, true],
    ['exactly 1000 validations', 1000, 400, false],
    ['500-seat enterprise key from 5 offices', 6000, 5, false],
    ['many IPs, few validations', 300, 300, false],
  ])('%s (%d validations, %d IPs): flagged %s', (_, validations, distinctIps, expected) => {
    expect(evaluateVelocity({ validations, distinctIps }, DEFAULTS).flagged).toBe(expected);
  });

  it('reports the validations against the threshold, with severity growing past it', () => {
    expect(evaluateVelocity({ validations: 3000, distinctIps: 400 }, DEFAULTS)).toEqual({ flagged: true, value: 3000, threshold: 1000, severity: 75 });
    expect(evaluateVelocity({ validations: 1100, distinctIps: 60 }, DEFAULTS)).toMatchObject({ severity: 33 });
  });

  it('follows per-plan overrides', () => {
    const enterprise = resolveThresholds({ validationsPerHour: 50_000, distinctIpsPerHour: 500 });
    expect(enterprise).toMatchObject({ validationsPerHour: 50_000, distinctIpsPerHour: 500, countriesPerDay: 20 });
    expect(evaluateVelocity({ validations: 3000, distinctIps: 400 }, enterprise).flagged).toBe(false);
  });
});

describe('evaluateGeoSpread', () => {
  it.each([
    [30, true],
    [20, true],
    [19, false],
    [2, false],
  ])('%d countries in a day: flagged %s', (countries, expected) => {
    expect(evaluateGeoSpread({ countries }, DEFAULTS).flagged).toBe(expected);
  });

  it('follows a plan that allows more countries', () => {
    expect(evaluateGeoSpread({ countries: 30 }, resolveThresholds({ countriesPerDay: 60 })).flagged).toBe(false);
  });
});

describe('evaluateKeyGuessing', () => {
  it.each([
    [29, false],
    [30, true],
    [500, true],
  ])('%d misses in 10 minutes from one network: flagged %s', (misses, expected) => {
    expect(evaluateKeyGuessing({ misses }, DEFAULTS).flagged).toBe(expected);
  });
});

describe('signalIdOf', () => {
  it('derives the id from kind, subject and window start', () => {
    const start = new Date('2026-03-01T10:00:00.000Z');
    expect(signalIdOf('velocity', { type: 'license', licenseId: 'lic_1' }, start)).toBe(`sig_velocity_lic_1_${start.getTime()}`);
    expect(signalIdOf('key_guessing', { type: 'network', network: '198.51.100.0/24' }, start)).toBe(`sig_key_guessing_198.51.100.0/24_${start.getTime()}`);
  });
});
