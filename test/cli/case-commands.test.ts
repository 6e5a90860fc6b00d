/**
 * `keyward cases` and `keyward reports` against the real database: listing and showing cases,
 * decisions in the CLI user's name (in the case and the license audit trail), reports made in
 * process and written as files; and, through runCli, the argument checks.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { EXIT } from '../../cli/cli-output.js';
import { createReport, getReport, listCases, listReports, recordCaseDecision, showCase, type CaseCliContext } from '../../cli/commands/case-commands.js';
import { runCli } from '../../cli/main.js';
import { CaseService } from '../../lib/service/case-service.js';
import { MongoAbuseSignalStore } from '../../lib/store/mongo-abuse-signal-store.js';
import { MongoCaseStore } from '../../lib/store/mongo-case-store.js';
import { mongoUrl } from '../setup/services.js';
import { buildSignal } from '../support/abuse-signals.js';
import { startCli, type CliFixture } from '../support/cli-fixture.js';
import { csvObjects } from '../support/parse-csv.js';

let cli: CliFixture;
let ctx: CaseCliContext;
let dir: string;
beforeEach(async () => {
  cli = await startCli();
  ctx = { ...cli.ctx, db: cli.fixture.db };
  dir = await mkdtemp(join(tmpdir(), 'keyward-cases-'));
});
afterEach(async () => {
  await cli.close();
  await rm(dir, { recursive: true, force: true });
});

/** A license with a case of one signal; answers the license id. */
async function flagged(severity = 40): Promise<string> {
  const issued = await cli.fixture.keyward.licenses.issue({ planId: 'pro' });
  if (!issued.ok) throw new Error('issue failed');
  const licenseId = issued.value.record.license.id;
  const signal = buildSignal({ licenseId, severity, detectedAt: new Date().toISOString() });
  const signals = new MongoAbuseSignalStore({ db: cli.fixture.db });
  await signals.save(signal);
  await new CaseService({ cases: new MongoCaseStore({ db: cli.fixture.db }), signals, licenses: cli.fixture.keyward.licenses, plans: cli.fixture.keyward.plans }).recordSignal(signal);
  return licenseId;
}

describe('cases', () => {
  it('lists by score with a minimum, and shows one with its signals', async () => {
    const weak = await flagged(10);
    const strong = await flagged(60);
    expect(await listCases(ctx, { limit: 10, minScore: 20 })).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ data: [{ id: `case_${strong}`, score: 60 }], nextCursor: null });
    cli.reset();
    expect(await listCases(ctx, { limit: 1 })).toBe(EXIT.ok);
    const first = cli.json();
    cli.reset();
    expect(await listCases(ctx, { limit: 1, after: first.nextCursor })).toBe(EXIT.ok);
    expect(cli.json().data[0].id).toBe(`case_${weak}`);
    cli.reset();
    expect(await showCase(ctx, `case_${strong}`)).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ status: 'open', signals: [{ kind: 'velocity', evidence: { topIps: [{ value: '203.0.113.7' }] } }] });
  });

  it('revokes in the CLI user’s name, recorded in the license audit trail', async () => {
    const licenseId = await flagged();
    expect(await recordCaseDecision(ctx, `case_${licenseId}`, { action: 'revoke', reason: 'Resold key, confirmed with the vendor.' })).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ case: { status: 'actioned', decision: { reviewer: 'cli:test' } }, license: { status: 'revoked' } });
    const audit = await cli.fixture.keyward.licenses.auditTrail(licenseId, { limit: 10 });
    expect(audit.at(-1)?.cause).toMatchObject({ actor: 'cli:test', reason: 'Resold key, confirmed with the vendor.' });
  });

  it('reports refusals and unknown cases on stderr with exit 1', async () => {
    expect(await recordCaseDecision(ctx, 'case_lic_none', { action: 'dismiss', reason: 'nothing' })).toBe(EXIT.refused);
    expect(cli.error().code).toBe('NOT_FOUND');
    const licenseId = await flagged();
    await recordCaseDecision(ctx, `case_${licenseId}`, { action: 'dismiss', reason: 'benign' });
    cli.reset();
    expect(await recordCaseDecision(ctx, `case_${licenseId}`, { action: 'dismiss', reason: 'benign' })).toBe(EXIT.refused);
    expect(cli.error().code).toBe('CASE_ALREADY_DISMISSED');
  });
});

describe('reports', () => {
  it('creates a report in process, lists it, and writes it as CSV, HTML and JSON files', async () => {
    await flagged(55);
    expect(await createReport(ctx, {})).toBe(EXIT.ok);
    const made = cli.json();
    expect(made).toMatchObject({ status: 'ready', trigger: 'cli', requestedBy: 'cli:test', summary: { newCases: 1, signals: 1 } });
    cli.reset();
    expect(await listReports(ctx, { limit: 5 })).toBe(EXIT.ok);
    expect(cli.json().data.map((report: { id: string }) => report.id)).toEqual([made.id]);

    const csvFile = join(dir, 'report.csv');
    expect(await getReport(ctx, made.id, { format: 'csv', outFile: csvFile })).toBe(EXIT.ok);
    expect(csvObjects(await readFile(csvFile, 'utf8')).map(({ section }) => section)).toContain('new_case');
    cli.reset();
    expect(await getReport(ctx, made.id, { format: 'html' })).toBe(EXIT.ok);
    expect(cli.out()).toMatch(/^<!DOCTYPE html>/);
    cli.reset();
    expect(await getReport(ctx, made.id, { format: 'json' })).toBe(EXIT.ok);
    expect(cli.json()).toMatchObject({ reportId: made.id });
  });

  it('never overwrites an existing --out file', async () => {
    await createReport(ctx, {});
    const { id } = cli.json();
    cli.reset();
    const existing = join(dir, 'mine.html');
    await writeFile(existing, 'keep me');
    expect(await getReport(ctx, id, { format: 'html', outFile: existing })).toBe(EXIT.refused);
    expect(cli.error().code).toBe('FILE_EXISTS');
    expect(await readFile(existing, 'utf8')).toBe('keep me');
  });
});

describe('runCli: cases and reports arguments', () => {
  const root = resolve(fileURLToPath(import.meta.url), '../../..');
  const run = async (...args: string[]) => {
    let err = '';
    const stderr = new Writable({
      write(chunk: Buffer, _encoding, done) {
        err += chunk.toString();
        done();
      },
    });
    const env = { MONGODB_URL: mongoUrl(), MONGODB_DB: 'unused', KEYWARD_DIGEST_SECRET: 'x'.repeat(40), KEYWARD_ENCRYPTION_KEY: '00'.repeat(32) };
    const code = await runCli(args, { stdout: { write: () => true }, stderr, env, cwd: root });
    return { code, err };
  };

  it.each([
    [['cases', 'decide', 'case_lic_x', '--reason', 'why'], '--action'],
    [['cases', 'decide', 'case_lic_x', '--action', 'ban', '--reason', 'why'], 'ban'],
    [['cases', 'list', '--min-score', '101'], '--min-score'],
    [['reports', 'get', 'rpt_x', '--format', 'pdf'], 'pdf'],
    [['reports', 'create', '--from', 'yesterday'], '--from'],
  ])('exits 2 for %j before connecting', async (args, mentioned) => {
    const { code, err } = await run(...args);
    expect(code).toBe(EXIT.usage);
    expect(err).toContain(mentioned);
  });
});
