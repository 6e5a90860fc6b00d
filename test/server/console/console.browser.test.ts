/**
 * The review console as a reviewer uses it, in Debian's chromium (playwright-core) against the
 * real server (production wiring), the real worker (abuse detector and cases modules) and the real
 * data stores: real validation traffic from 30 countries raises a geo-spread case; the reviewer
 * signs in, finds the case in the queue, opens it, reads it in plain words, suspends the key, sees
 * the key validate SUSPENDED, looks at the webhook endpoints, and signs out. Each page is checked
 * for sideways overflow at 1280 px and 390 px (screenshots in test-artifacts/console/) and with
 * axe-core's rules.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { MongoClient } from 'mongodb';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import { createKeyCipher } from '../../../lib/keys/key-cipher.js';
import { loadPlanCatalogue } from '../../../lib/plans/plan-catalogue.js';
import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { MongoWebhookEndpointStore } from '../../../lib/store/mongo-webhook-endpoint-store.js';
import { createAdminToken } from '../../../server/auth/admin-auth.js';
import { serverWiring } from '../../../server/main.js';
import { createAbuseDetectorModule } from '../../../worker/abuse/abuse-detector-module.js';
import { DEFAULT_CONSUMER_GROUP } from '../../../worker/abuse/stream-consumer.js';
import { readStreamLag } from '../../../worker/abuse/stream-lag.js';
import { casesModule } from '../../../worker/cases/cases-module.js';
import { COUNTRY_IPS } from '../../fixtures/country-ips.js';
import { repeated, sendValidations } from '../../support/abuse-traffic.js';
import { horizontalOverflow, launchChromium } from '../../support/browser-page.js';
import { TEST_PLANS } from '../../support/keyward-fixture.js';
import { startTestServer } from '../../support/server-fixture.js';
import { startTestWorker } from '../../support/worker-fixture.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WAIT_LIMIT_MS = 90_000;

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

let browser: Browser;
beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** axe-core's violations on the page (WCAG 2 A and AA: labels, headings, contrast, …). */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, so the page's own policy (no scripts) stays as served.
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })`)) as {
    violations: AxeViolation[];
  };
  return result.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map(({ target }) => ({ target })) }));
}

/** Screenshots at desktop and phone widths, each checked for sideways overflow and with axe. */
async function checkLayouts(page: Page, name: string): Promise<void> {
  for (const [label, width] of [
    ['desktop', 1280],
    ['phone', 390],
  ] as const) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${label}-${width}.png`), fullPage: true });
    const { scrollWidth, clientWidth } = await horizontalOverflow(page);
    expect({ page: name, width, scrollWidth }).toEqual({ page: name, width, scrollWidth: clientWidth });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  expect(await axeViolations(page)).toEqual([]);
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const found = await probe();
    if (found !== null) return found;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${WAIT_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('review console in a browser', () => {
  it('signs in, finds a case raised by real traffic, suspends the key, sees it validate SUSPENDED, signs out', { timeout: 240_000 }, async () => {
    const plans = loadPlanCatalogue(TEST_PLANS);
    const server = await startTestServer({ plans }, serverWiring);
    const { streamPrefix, partitions } = server.config.events;
    const worker = await startTestWorker(
      { mongoDb: server.config.mongoDb, events: { streamPrefix, partitions }, queuePrefix: server.config.queuePrefix, plans },
      [casesModule, createAbuseDetectorModule({ claimIdleMs: 1_000 })],
      { dropDatabase: false },
    );
    const mongo = await new MongoClient(server.config.mongoUrl).connect();
    try {
      const db = mongo.db(server.config.mongoDb);
      const { token } = await createAdminToken(new MongoAdminTokenStore({ db }), { name: 'ada-reviewer', scope: 'write' }, new Date());
      const now = new Date();
      await db.collection<{ _id: string; email: string; createdAt: Date; updatedAt: Date }>('customers').insertOne({ _id: 'cus_console_ada', email: 'ada@example.com', createdAt: now, updatedAt: now });
      const issued = await server.server.keyward.licenses.issue({ planId: 'open', customerId: 'cus_console_ada', periodEndsAt: new Date(Date.now() + 30 * 86_400_000) });
      if (!issued.ok) throw new Error(issued.refusal.message);
      const { key } = issued.value;
      const { keyMask } = issued.value.record;
      const licenseId = issued.value.record.license.id;
      const caseId = `case_${licenseId}`;

      // One key validated from 30 countries, twice over (the geo-spread threshold is 20 a day).
      const answers = await sendValidations(server.url, repeated(COUNTRY_IPS.map(([, ip], i) => ({ key, ip, fingerprint: `pc-${i}` })), 2));
      expect(answers).toEqual({ '200 VALID': COUNTRY_IPS.length * 2 });
      await server.server.flushEvents();
      await waitFor('the detector draining the streams', async () => {
        const lags = await Promise.all(allStreamKeys(partitions, streamPrefix).map((stream) => readStreamLag(worker.context.redis, stream, DEFAULT_CONSUMER_GROUP)));
        return lags.every((lag) => lag.pending === 0 && lag.undelivered === 0) ? true : null;
      });
      await waitFor('the geo-spread case', async () => ((await db.collection('abuse_cases').findOne({ _id: caseId as never })) === null ? null : true));

      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const problems: string[] = [];
      const external: string[] = [];
      page.on('console', (message) => {
        // Resource failures are reported with their URL by the response listener below.
        if ((message.type() === 'error' || message.type() === 'warning') && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('response', (response) => {
        if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
      });
      page.on('request', (request) => {
        if (!request.url().startsWith(server.url)) external.push(request.url());
      });

      // Signed out: the console sends us to sign in.
      await page.goto(`${server.url}/console`);
      expect(new URL(page.url()).pathname).toBe('/console/sign-in');
      await checkLayouts(page, 'sign-in');
      await page.getByLabel('Admin token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${server.url}/console`);
      const cookies = await context.cookies();
      expect(cookies.find(({ name }) => name === 'kw_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });

      // The queue shows the case with its masked key, plan and customer.
      const row = page.locator('tr', { hasText: keyMask });
      await expect(row.textContent()).resolves.toContain('cus_console_ada');
      await expect(row.textContent()).resolves.toContain('ada@example.com');
      await expect(row.textContent()).resolves.toContain('Geo spread');
      await checkLayouts(page, 'queue');

      // Search by e-mail finds it; a search for someone else does not.
      await page.getByLabel('Search').fill('ada@example');
      await page.getByRole('button', { name: 'Show' }).click();
      await expect(page.locator('tr', { hasText: keyMask }).count()).resolves.toBe(1);
      await page.getByLabel('Search').fill('nobody@example.com');
      await page.getByRole('button', { name: 'Show' }).click();
      await expect(page.getByText('No cases match these filters.').count()).resolves.toBe(1);
      await page.getByLabel('Search').fill(key);
      await page.getByRole('button', { name: 'Show' }).click();

      // The case page says what happened in plain words, with the countries.
      await page.locator('tr', { hasText: keyMask }).getByRole('link', { name: /Open case/ }).click();
      await page.waitForURL(`${server.url}/console/cases/${caseId}`);
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toContain(keyMask);
      expect(text).toContain('open');
      expect(text).toContain('ada@example.com');
      const signal = await db.collection<{ kind: string; value: number; evidence: { countries: { value: string }[] } }>('abuse_signals').findOne({ kind: 'geo_spread', 'subject.licenseId': licenseId });
      const countries = signal?.evidence.countries.map(({ value }) => value) ?? [];
      expect(signal?.value).toBeGreaterThanOrEqual(20);
      expect(text).toContain(`Used from ${signal?.value} countries in one day: ${countries.slice(0, 5).join(', ')} and ${(signal?.value ?? 0) - 5} more (20 or more is unusual).`);
      for (const country of countries) expect(text).toContain(`${country} (`);
      expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(3);
      expect(text).not.toContain(key);
      await checkLayouts(page, 'case');

      // Decide: suspend, with a reason; the result shows at once.
      await page.getByLabel('Decision').selectOption('suspend');
      await page.getByLabel(/^Reason/).fill('Key used from dozens of countries in a day: shared publicly.');
      await page.getByRole('button', { name: 'Record decision' }).click();
      await page.waitForURL(`${server.url}/console/cases/${caseId}?done=suspend`);
      await expect(page.getByRole('status').textContent()).resolves.toBe('License suspended; the case is actioned.');
      const decided = (await page.locator('main').textContent()) ?? '';
      expect(decided).toContain('suspended');
      expect(decided).toContain('Key used from dozens of countries in a day: shared publicly.');

      // The same decision as through the admin API: audited as the signed-in token.
      const audit = await server.server.keyward.licenses.auditTrail(licenseId, { limit: 10 });
      expect(audit.at(-1)).toMatchObject({ command: 'suspend', to: 'suspended', cause: { actor: expect.stringMatching(/^admin:tok_/) as unknown, reason: 'Key used from dozens of countries in a day: shared publicly.' } });
      const validated = await server.post('/v1/licenses/validate', { key, fingerprint: 'pc-0' });
      expect(validated.body).toMatchObject({ valid: false, code: 'SUSPENDED' });

      // Reports: ask for one now; the worker makes it; it opens inside the console.
      await page.getByRole('link', { name: 'Reports' }).click();
      await page.getByRole('button', { name: 'Make a report now' }).click();
      const reportId = new URL(page.url()).searchParams.get('asked') ?? '';
      expect(reportId).toMatch(/^rpt_/);
      await waitFor('the report', async () => ((await db.collection('abuse_reports').findOne({ _id: reportId as never, status: 'ready' })) === null ? null : true));
      await page.reload();
      await page.getByRole('link', { name: new RegExp(`Open ${reportId}`) }).click();
      const report = (await page.locator('main').textContent()) ?? '';
      expect(report).toContain(keyMask);
      expect(report).toMatch(/Used from \d+ countries in one day: ([A-Z]{2}, ){4}[A-Z]{2} and \d+ more/);
      expect(report).toContain(`keyward cases decide ${caseId}`);
      await checkLayouts(page, 'report');

      // Webhooks: an endpoint disabled for failing is listed first, with why and since when.
      const endpoints = new MongoWebhookEndpointStore({ db, cipher: createKeyCipher(server.config.secrets.encryption) });
      const { endpoint } = await endpoints.create({ url: 'https://hooks.example.com/keyward/deliveries/for-a-rather-long-tenant-name?tenant=acme-industries', description: 'CRM sync', eventTypes: ['license.created', 'license.revoked'] }, now);
      await endpoints.create({ url: 'https://warehouse.example.com/hooks', description: 'Data warehouse' }, now);
      await endpoints.recordFailure(endpoint._id, new Date(now.getTime() - 80 * 3_600_000));
      await endpoints.disableIfFailing(endpoint._id, now, now);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.waitForURL(`${server.url}/console/webhooks`);
      await expect(page.locator('tbody tr').first().textContent()).resolves.toContain('Disabled for failing since');
      await checkLayouts(page, 'webhooks');

      // Sign out: the session ends, and the console asks to sign in again.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect(page.locator('h1').textContent()).resolves.toBe('Signed out');
      await page.goto(`${server.url}/console`);
      expect(new URL(page.url()).pathname).toBe('/console/sign-in');

      // A read token looks but cannot decide: no decision form, and the page says why.
      const reader = await createAdminToken(new MongoAdminTokenStore({ db }), { name: 'bo-reader', scope: 'read' }, new Date());
      await page.getByLabel('Admin token').fill(reader.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${server.url}/console`);
      await page.goto(`${server.url}/console/cases/${caseId}`);
      await expect(page.getByText('Signed in as bo-reader (read only)').count()).resolves.toBe(1);
      await expect(page.getByRole('button', { name: 'Record decision' }).count()).resolves.toBe(0);
      await expect(page.getByText('You signed in with a read token: you can review this case but not decide it.').count()).resolves.toBe(1);

      expect(problems).toEqual([]);
      expect(external).toEqual([]);
      await context.close();
    } finally {
      await mongo.close();
    }
  });
});
