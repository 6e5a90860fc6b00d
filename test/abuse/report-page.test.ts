/**
 * The HTML report as people see it: opened in Debian's chromium (playwright-core, never a
 * downloaded browser), it shows every section and draws its charts, with no console errors and
 * no network requests.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildReport } from '../../lib/abuse/build-report.js';
import { renderReportHtml } from '../../lib/abuse/report-html.js';
import { COUNTRY_IPS } from '../fixtures/country-ips.js';
import { clippedCells, horizontalOverflow, launchChromium } from '../support/browser-page.js';
import { sampleReportInput } from '../support/report-input.js';


let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('HTML report in a browser', () => {
  it('renders its sections and charts with no console errors or requests', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => requests.push(request.url()));
    const report = buildReport('rpt_page', sampleReportInput(), new Date('2026-11-02T05:00:00Z'));
    await page.setContent(renderReportHtml(report), { waitUntil: 'load' });

    expect(await page.locator('h2').allTextContents()).toEqual([
      'Signals',
      'New cases',
      'Open cases',
      'Top signals',
      'Keys suspended or revoked',
      'Trial-cycling clusters',
    ]);
    const charts = page.locator('svg.chart');
    expect(await charts.count()).toBe(3);
    for (const chart of await charts.all()) {
      const box = await chart.boundingBox();
      expect(box?.width).toBeGreaterThan(100);
      expect(box?.height).toBeGreaterThan(20);
      expect(await chart.locator('rect.bar').count()).toBeGreaterThan(0);
    }
    // The hostile reason is shown as text, not run.
    await expect(page.locator('#keys-suspended td').nth(3).textContent()).resolves.toBe('<script>alert("x")</script>, "resold", =cmd');
    expect(await page.locator('script').count()).toBe(0);
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('about:') && !url.startsWith('data:'))).toEqual([]);
    await page.close();
  });

  it('fits a 1280 px window without sideways scrolling, with long ids, many countries and every section full', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const longId = `lic_${'01jz8k3m4n5p6q7r8s9t0v1w2x'.repeat(2)}`;
    const base = sampleReportInput();
    const countries = COUNTRY_IPS.map(([country], i) => ({ value: country, count: 60 - i }));
    const input = sampleReportInput({
      newCases: Array.from({ length: 12 }, (_, i) => ({ ...base.newCases[0]!, id: `case_${longId}${i}`, subject: { type: 'license' as const, licenseId: `${longId}${i}` } })),
      topSignals: Array.from({ length: 20 }, (_, i) => ({
        id: `sig_geo_spread_${longId}${i}_1796342400000`,
        kind: 'geo_spread' as const,
        subject: { type: 'license' as const, licenseId: `${longId}${i}` },
        severity: 50,
        value: countries.length,
        threshold: 20,
        detectedAt: new Date('2026-11-01T11:00:00Z'),
        topIps: COUNTRY_IPS.slice(0, 3).map(([, ip]) => ({ value: ip, count: 2 })),
        window: { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-02T00:00:00Z') },
        evidence: { countries },
      })),
      licenses: Array.from({ length: 20 }, (_, i) => ({
        licenseId: `${longId}${i}`,
        keyMask: 'TO-****-****-****-E05Q',
        planId: 'enterprise-annual-2026',
        status: 'active',
        customerId: `cus_${'x'.repeat(40)}`,
        email: `someone.with.a.long.name.${i}@a-very-long-company-domain.example`,
      })),
    });
    await page.setContent(renderReportHtml(buildReport('rpt_wide', input, new Date('2026-11-02T05:00:00Z'))), { waitUntil: 'load' });
    const widths = await horizontalOverflow(page);
    expect(widths.scrollWidth).toBeLessThanOrEqual(widths.clientWidth);
    // Every cell's content stays inside its cell (nothing cut off at a column edge).
    expect(await clippedCells(page)).toEqual([]);
    await expect(page.locator('#top-signals td').nth(4).textContent()).resolves.toContain(`Countries: ${countries.map(({ value }) => value).join(', ')}`);
    await page.close();
  });
});
