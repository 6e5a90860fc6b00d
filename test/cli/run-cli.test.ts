/**
 * The CLI as a whole: arguments and environment to exit code and output (in process with
 * runCli), usage errors before any connection, `--version`, required options marked in `--help`,
 * an unknown flag reported before a missing required one, and once as real processes
 * (`npx tsx cli/main.ts`): the very first token straight into the database, then everything else
 * over HTTP with that token.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { serverWiring } from '../../server/main.js';
import { cliRunner } from '../support/cli-runner.js';
import { startTestServer } from '../support/server-fixture.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const version = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('runCli', () => {
  it.each([
    [['licenses', 'create', '--plan', 'pro', '--count', 'many'], /option '--count <n>' argument 'many' is invalid/],
    [['licenses', 'create', '--plan', 'pro', '--count', '0'], /must be a whole number from 1 to 100000/],
    [['licenses', 'create', '--plan', 'pro', '--trial', '--email', 'not-an-address'], /e-mail/i],
    [['licenses', 'create'], /required option '--plan <planId>' not specified/],
    [['licenses', 'revoke', 'lic_1', '--reason', 'bored'], /argument 'bored' is invalid\. Allowed choices are refund, chargeback, abuse, manual/],
    [['licenses', 'renew', 'lic_1', '--until', 'soon'], /must be an ISO 8601 date-time/],
    [['licenses', 'list', '--limit', '501'], /from 1 to 500/],
    [['token', 'create', '--name', 'x', '--scope', 'admin'], /Allowed choices are read, write/],
    [['licenses', 'frobnicate'], /unknown command 'frobnicate'/],
    [['licenses', 'get', 'lic_1', 'extra'], /too many arguments/],
    [['cases', 'decide', 'case_1', '--action', 'suspend'], /required option '--reason <text>' not specified/],
  ])('answers a usage error with exit 2 before connecting: %o', async (args, message) => {
    const result = await cliRunner({}).run(...args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.out).toBe('');
  });

  it('reports an unknown flag before a missing required one', async () => {
    const result = await cliRunner({}).run('licenses', 'create', '--plna', 'pro');
    expect(result.code).toBe(2);
    expect(result.err).toContain("error: unknown option '--plna'");
    expect(result.err).toContain('Did you mean --plan?');
    expect(result.err).not.toContain('required option');
  });

  it('prints its version', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await cliRunner({}).run(flag);
      expect(result).toMatchObject({ code: 0, out: `${version}\n` });
    }
  });

  it('marks required options in --help, and names the connection options', async () => {
    const help = await cliRunner({}).run('licenses', 'create', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--plan <planId>\s+plan from the catalogue \(required\)/);
    expect(help.out).toMatch(/--count <n>\s+how many \(default: 1\)/);
    expect(help.out).toContain('--url <url>');
    expect(help.out).toContain('--token <token>');
    expect((await cliRunner({}).run('cases', 'decide', '--help')).out).toMatch(/--action <action>\s+what to do \(required\)/);
    expect((await cliRunner({}).run('licenses', '--help')).out).toContain('change-plan');
  });

  it('without configuration, exits 2 suggesting npm run keyward:local or the variables it needs', async () => {
    const result = await cliRunner({}).run('cases', 'list');
    expect(result.code).toBe(2);
    expect(result.error().code).toBe('INVALID_CONFIGURATION');
    expect(result.error().message).toContain('KEYWARD_URL');
    expect(result.error().message).toContain('KEYWARD_TOKEN');
    expect(result.error().message).toContain('npm run keyward:local');
  });
});

/** Runs `npx tsx cli/main.ts ...` as a real process with exactly `env` (plus PATH and HOME). */
function spawnCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('npx', ['tsx', 'cli/main.ts', ...args], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('the keyward process', () => {
  it('creates the first token in the database, then works over HTTP with it and nothing else', { timeout: 120_000 }, async () => {
    const server = await startTestServer({}, serverWiring);
    const first = await spawnCli(['token', 'create', '--name', 'first', '--scope', 'write'], { MONGODB_URL: server.config.mongoUrl, MONGODB_DB: server.config.mongoDb });
    expect(first.stderr).toContain('creating the token directly in the database');
    expect(first.stderr).toContain('shown only once');
    expect(first.code).toBe(0);
    const { token } = JSON.parse(first.stdout) as { token: string };
    expect(token).toMatch(/^kwa_tok_/);

    const http = { KEYWARD_URL: server.url, KEYWARD_TOKEN: token };
    const listed = await spawnCli(['licenses', 'list', '--limit', '5'], http);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ data: [], nextCursor: null });

    const missing = await spawnCli(['licenses', 'get', 'lic_nope', '--url', server.url, '--token', token], {});
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toEqual({ error: { code: 'NOT_FOUND', message: 'No license "lic_nope".' } });
    expect(missing.stdout).toBe('');

    const version = await spawnCli(['--version'], {});
    expect(version).toMatchObject({ code: 0, stdout: `${(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string }).version}\n` });
  });
});
