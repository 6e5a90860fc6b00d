/**
 * CLI license commands against the real database: bulk issue with a CSV of keys, reads,
 * lifecycle commands with their refusals, and the audit trail naming the CLI user.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/cli-output.js';
import { createLicenses } from '../../cli/commands/create-licenses.js';
import {
  changePlan,
  getLicense,
  listLicenses,
  reinstateLicense,
  renewLicense,
  revokeLicense,
  showAudit,
  suspendLicense,
} from '../../cli/commands/license-commands.js';
import { startCli, type CliFixture } from '../support/cli-fixture.js';

const DAY_MS = 86_400_000;

let cli: CliFixture;
let dir: string;
beforeEach(async () => {
  cli = await startCli();
  dir = await mkdtemp(join(tmpdir(), 'keyward-cli-'));
});
afterEach(async () => {
  await cli.close();
  await rm(dir, { recursive: true, force: true });
});

/** Parses the CSV the CLI writes (no quoted fields in these tests). */
function rows(csv: string): Array<Record<string, string>> {
  const [header, ...lines] = csv.trimEnd().split('\r\n');
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [names[i], value])));
}

async function issueOne(planId = 'pro'): Promise<string> {
  expect(await createLicenses(cli.ctx, { planId, periodDays: 30 })).toBe(EXIT.ok);
  const [row] = rows(cli.out());
  cli.reset();
  return row!['id']!;
}

describe('licenses create', () => {
  it('issues 1,000 licenses and writes their 1,000 distinct keys to a private CSV file', async () => {
    const file = join(dir, 'keys.csv');
    const code = await createLicenses(cli.ctx, { planId: 'pro', count: 1_000, customerId: 'cus_bulk', periodDays: 365, outFile: file });

    expect(code).toBe(EXIT.ok);
    expect(cli.json()).toEqual({ created: 1_000, planId: 'pro', file });
    const csv = rows(await readFile(file, 'utf8'));
    expect(csv).toHaveLength(1_000);
    const keys = new Set(csv.map((row) => row['key']));
    expect(keys.size).toBe(1_000);
    expect(csv[0]).toMatchObject({ planId: 'pro', customerId: 'cus_bulk', status: 'active', id: expect.stringMatching(/^lic_/) });
    // Every key in the file is the key of a stored license.
    const digests = [...keys].map((key) => cli.fixture.keyward.licenses.digestOf(key!));
    expect(await cli.fixture.db.collection('licenses').countDocuments({ keyDigest: { $in: digests } })).toBe(1_000);
    expect(await cli.fixture.db.collection('licenses').countDocuments()).toBe(1_000);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(cli.progress).toEqual([{ total: 1_000, updates: [1_000], stopped: true }]);
  });

  it('writes the CSV to stdout without --out, and issues trials on request', async () => {
    expect(await createLicenses(cli.ctx, { planId: 'pro', count: 3, trial: true })).toBe(EXIT.ok);
    const csv = rows(cli.out());
    expect(csv).toHaveLength(3);
    for (const row of csv) expect(row).toMatchObject({ key: expect.stringMatching(/^TO-T-/), trialEndsAt: expect.stringMatching(/^\d{4}-/) });
    expect(cli.out().split('\r\n')[0]).toBe('id,key,keyMask,planId,customerId,status,trialEndsAt,periodEndsAt');
  });

  it('refuses an unknown plan with exit 1, issuing nothing and leaving no file behind', async () => {
    const file = join(dir, 'keys.csv');
    expect(await createLicenses(cli.ctx, { planId: 'gold', count: 5, outFile: file })).toBe(EXIT.refused);
    expect(cli.error()).toMatchObject({ code: 'UNKNOWN_PLAN' });
    expect(cli.out()).toBe('');
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await cli.fixture.db.collection('licenses').countDocuments()).toBe(0);
  });

  it('never writes over an existing file, and then issues nothing (exit 2)', async () => {
    const file = join(dir, 'keys.csv');
    await writeFile(file, 'precious');
    expect(await createLicenses(cli.ctx, { planId: 'pro', count: 5, outFile: file })).toBe(EXIT.usage);
    expect(cli.error()).toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readFile(file, 'utf8')).toBe('precious');
    expect(await cli.fixture.db.collection('licenses').countDocuments()).toBe(0);
  });

  it('quotes CSV fields that need it', async () => {
    expect(await createLicenses(cli.ctx, { planId: 'pro', customerId: 'ACME, "Inc"' })).toBe(EXIT.ok);
    expect(cli.out()).toContain(',"ACME, ""Inc""",');
  });
});

describe('licenses get and list', () => {
  it('shows a license with its masked key, never the key', async () => {
    expect(await createLicenses(cli.ctx, { planId: 'pro' })).toBe(EXIT.ok);
    const [row] = rows(cli.out());
    cli.reset();
    expect(await getLicense(cli.ctx, row!['id']!)).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ id: row!['id'], keyMask: row!['keyMask'], planId: 'pro', status: 'active' });
    expect(cli.out()).not.toContain(row!['key']);
    expect(cli.out()).not.toMatch(/keyDigest|keyCiphertext/);
  });

  it('answers exit 1 NOT_FOUND for an unknown id', async () => {
    expect(await getLicense(cli.ctx, 'lic_nope')).toBe(EXIT.refused);
    expect(cli.error()).toEqual({ code: 'NOT_FOUND', message: 'No license "lic_nope".' });
  });

  it('lists by filters, page by page', async () => {
    await createLicenses(cli.ctx, { planId: 'basic', count: 7 });
    await createLicenses(cli.ctx, { planId: 'pro', count: 5 });
    cli.reset();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      expect(await listLicenses(cli.ctx, { planId: 'basic', limit: 3, ...(cursor === null ? {} : { cursor }) })).toBe(EXIT.ok);
      const page: { data: Array<{ id: string; planId: string }>; nextCursor: string | null } = cli.json();
      cli.reset();
      expect(page.data.every((license) => license.planId === 'basic')).toBe(true);
      seen.push(...page.data.map((license) => license.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(7);
    expect([...seen].sort()).toEqual(seen);
  });
});

describe('lifecycle commands', () => {
  it('revoke, then get shows the license revoked; a second revoke is refused with exit 1', async () => {
    const id = await issueOne();
    expect(await revokeLicense(cli.ctx, id, { reason: 'chargeback', note: 'bank dispute' })).toBe(EXIT.ok);
    cli.reset();
    expect(await getLicense(cli.ctx, id)).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ status: 'revoked', revocation: { reason: 'chargeback', note: 'bank dispute' } });
    cli.reset();
    expect(await revokeLicense(cli.ctx, id, { reason: 'manual' })).toBe(EXIT.refused);
    expect(cli.error().code).toBe('ALREADY_REVOKED');
    expect(cli.out()).toBe('');
  });

  it('suspends, reinstates, changes plan and renews, and the audit trail names the CLI user', async () => {
    const id = await issueOne('basic');
    const until = new Date(Date.now() + 400 * DAY_MS);
    expect(await suspendLicense(cli.ctx, id, { note: 'checking' })).toBe(EXIT.ok);
    expect(await reinstateLicense(cli.ctx, id)).toBe(EXIT.ok);
    expect(await changePlan(cli.ctx, id, { planId: 'pro' })).toBe(EXIT.ok);
    expect(await renewLicense(cli.ctx, id, { until })).toBe(EXIT.ok);
    cli.reset();
    expect(await getLicense(cli.ctx, id)).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ status: 'active', planId: 'pro', periodEndsAt: until.toISOString(), version: 5 });
    cli.reset();
    expect(await showAudit(cli.ctx, id)).toBe(EXIT.ok);
    const trail: { data: Array<{ command: string; cause: { actor: string; reason?: string } }>; nextCursor: null } = cli.json();
    expect(trail.data.map((entry) => entry.command)).toEqual(['issue', 'suspend', 'reinstate', 'change_plan', 'renew']);
    expect(new Set(trail.data.map((entry) => entry.cause.actor))).toEqual(new Set(['cli:test']));
    expect(trail.data[1]?.cause.reason).toBe('checking');
    expect(trail.nextCursor).toBeNull();
  });

  it('refuses an unknown plan, an unknown license and a lifecycle rule with exit 1, writing nothing', async () => {
    const id = await issueOne();
    const cases: Array<[() => Promise<number>, string]> = [
      [() => changePlan(cli.ctx, id, { planId: 'gold' }), 'UNKNOWN_PLAN'],
      [() => changePlan(cli.ctx, id, { planId: 'pro' }), 'SAME_PLAN'],
      [() => reinstateLicense(cli.ctx, id), 'NOT_SUSPENDED'],
      [() => renewLicense(cli.ctx, id, { until: new Date(Date.now() + DAY_MS) }), 'PERIOD_NOT_EXTENDED'],
      [() => suspendLicense(cli.ctx, 'lic_nope'), 'NOT_FOUND'],
      [() => showAudit(cli.ctx, 'lic_nope'), 'NOT_FOUND'],
    ];
    for (const [run, code] of cases) {
      cli.reset();
      expect(await run(), code).toBe(EXIT.refused);
      expect(cli.error().code).toBe(code);
    }
    expect(await cli.fixture.db.collection('license_audit').countDocuments()).toBe(1);
  });
});
