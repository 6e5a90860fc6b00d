/**
 * Browser helpers for page tests in Debian's chromium (playwright-core, never a downloaded
 * browser): the launch flags, and page measurements written as page scripts (the tests are
 * type-checked without the DOM library).
 */
import { existsSync } from 'node:fs';

import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags that keep chromium quiet, offline and sandbox-free in CI containers. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches chromium, or says how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium).`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** The document's scroll width and the viewport's width: equal when nothing overflows sideways. */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return (await page.evaluate('({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth })')) as {
    scrollWidth: number;
    clientWidth: number;
  };
}

/** Text of table cells whose content is wider than the cell (cut off at a column edge). */
export async function clippedCells(page: Page): Promise<string[]> {
  return (await page.evaluate(
    '[...document.querySelectorAll("td, th")].filter((cell) => cell.scrollWidth > cell.clientWidth + 1).map((cell) => cell.textContent)',
  )) as string[];
}
