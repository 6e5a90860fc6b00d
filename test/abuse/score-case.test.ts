/** The case score: severities summed with a 7-day half-life, capped at 100, rounded. */
import { describe, expect, it } from 'vitest';

import { scoreCase } from '../../lib/abuse/score-case.js';

const NOW = new Date('2026-11-15T00:00:00Z');
const at = (iso: string) => new Date(iso);

describe('scoreCase', () => {
  it.each([
    { name: 'no signals score 0', signals: [], score: 0 },
    { name: 'one fresh signal scores its severity', signals: [{ severity: 80, detectedAt: NOW }], score: 80 },
    { name: 'a signal one half-life old counts half', signals: [{ severity: 80, detectedAt: at('2026-11-08T00:00:00Z') }], score: 40 },
    { name: 'two half-lives: a quarter', signals: [{ severity: 80, detectedAt: at('2026-11-01T00:00:00Z') }], score: 20 },
    {
      name: 'fresh signals add up and are capped at 100',
      signals: [40, 40, 40].map((severity) => ({ severity, detectedAt: NOW })),
      score: 100,
    },
    { name: 'a signal from the future counts fully', signals: [{ severity: 30, detectedAt: at('2026-11-16T00:00:00Z') }], score: 30 },
    { name: 'severities above 100 are clamped', signals: [{ severity: 500, detectedAt: at('2026-11-08T00:00:00Z') }], score: 50 },
    { name: 'negative severities count nothing', signals: [{ severity: -20, detectedAt: NOW }, { severity: 10, detectedAt: NOW }], score: 10 },
  ])('$name', ({ signals, score }) => {
    expect(scoreCase(signals, NOW)).toBe(score);
  });

  it('takes another half-life and cap', () => {
    const signals = [{ severity: 60, detectedAt: at('2026-11-14T00:00:00Z') }];
    expect(scoreCase(signals, NOW, { halfLifeMs: 86_400_000 })).toBe(30);
    expect(scoreCase(signals, NOW, { halfLifeMs: 86_400_000, cap: 20 })).toBe(20);
  });
});
