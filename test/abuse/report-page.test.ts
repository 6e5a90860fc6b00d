/**
 * The HTML report as people see it: opened in Debian's chromium (playwright-core, never a
 * downloaded browser), it shows every section and draws its charts, with no console errors and
 * no network requests.
 */
import { existsSync } from 'node:fs';

import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildReport } from '../../lib/abuse/build-report.js';
import { renderReportHtml } from '../../lib/abuse/report-html.js';
import { sampleReportInput } from '../support/report-input.js';

const CHROMIUM = '/usr/bin/chromium';

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium).`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
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
});
