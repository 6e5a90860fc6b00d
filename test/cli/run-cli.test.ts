/**
 * The CLI as a whole: arguments and environment to exit code and output, in process with
 * runCli, and once as a real process (`npx tsx cli/main.ts`) to prove the wiring.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../cli/main.js';
import { mongoUrl, redisUrl, uniqueName } from '../setup/services.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const databases: string[] = [];

afterEach(async () => {
  const client = await new MongoClient(mongoUrl()).connect();
  try {
    for (const name of databases.splice(0)) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
});

/** The environment of a CLI run on a fresh database of the test MongoDB (and the test Redis). */
function environment(): Record<string, string> {
  const name = uniqueName('cli');
  databases.push(name);
  return {
    MONGODB_URL: mongoUrl(),
    MONGODB_DB: name,
    REDIS_URL: redisUrl(),
    KEYWARD_DIGEST_SECRET: 'digest-secret-for-the-cli-process-tests-0123456789',
    KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
  };
}

/** In-process io writing into strings. */
function bufferedIo(env: Record<string, string>) {
  const io = { out: '', err: '' };
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, done) {
      io.err += chunk.toString();
      done();
    },
  });
  const cliIo: CliIo = { stdout: { write: (text: string) => (io.out += text) }, stderr, env, cwd: root };
  return {
    run: async (...args: string[]) => {
      io.out = '';
      io.err = '';
      const code = await runCli(args, cliIo);
      return { code, out: io.out, err: io.err };
    },
  };
}

describe('runCli', () => {
  it('issues, revokes and reads licenses, printing CSV and JSON', async () => {
    const cli = bufferedIo(environment());
    const created = await cli.run('licenses', 'create', '--plan', 'starter', '--count', '3', '--period-days', '30');
    expect(created.code).toBe(0);
    const lines = created.out.trimEnd().split('\r\n');
    expect(lines).toHaveLength(4);
    const id = lines[1]!.split(',')[0]!;

    const revoked = await cli.run('licenses', 'revoke', id, '--reason', 'refund');
    expect(revoked.code).toBe(0);
    const read = await cli.run('licenses', 'get', id);
    expect(read.code).toBe(0);
    expect(JSON.parse(read.out)).toMatchObject({ id, status: 'revoked', planId: 'starter' });

    const again = await cli.run('licenses', 'revoke', id, '--reason', 'refund');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.err)).toEqual({ error: { code: 'ALREADY_REVOKED', message: expect.any(String) } });
  });

  it('records trials it issues for trial-cycling checks, with the e-mail given', async () => {
    const env = environment();
    const cli = bufferedIo(env);
    const created = await cli.run('licenses', 'create', '--plan', 'starter', '--trial', '--count', '2', '--email', 'Jane.Doe+cli@googlemail.com');
    expect(created.code).toBe(0);
    const ids = created.out.trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[0]!);
    const client = await new MongoClient(mongoUrl()).connect();
    try {
      const stored = await client.db(env['MONGODB_DB']).collection('trial_registrations').find({}).sort({ _id: 1 }).toArray();
      expect(stored.map(({ _id, customerId, emailNormalized, pendingSince }) => ({ _id, customerId, emailNormalized, pending: pendingSince instanceof Date }))).toEqual(
        ids.sort().map((id) => ({ _id: id, customerId: `license:${id}`, emailNormalized: 'janedoe@gmail.com', pending: true })),
      );
    } finally {
      await client.close();
    }
  });

  it.each([
    [['licenses', 'create', '--plan', 'pro', '--count', 'many']],
    [['licenses', 'create', '--plan', 'pro', '--count', '0']],
    [['licenses', 'create', '--plan', 'pro', '--trial', '--email', 'not-an-address']],
    [['licenses', 'create']],
    [['licenses', 'revoke', 'lic_1', '--reason', 'bored']],
    [['licenses', 'renew', 'lic_1', '--until', 'soon']],
    [['licenses', 'list', '--limit', '501']],
    [['token', 'create', '--name', 'x', '--scope', 'admin']],
    [['licenses', 'frobnicate']],
    [['licenses', 'get', 'lic_1', 'extra']],
  ])('answers a usage error with exit 2 before connecting: %o', async (args) => {
    const cli = bufferedIo({});
    const result = await cli.run(...args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/error/i);
    expect(result.out).toBe('');
  });

  it('carries on without Redis when it is unreachable, and says so', async () => {
    const cli = bufferedIo({ ...environment(), REDIS_URL: 'redis://127.0.0.1:1' });
    const result = await cli.run('licenses', 'list');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({ data: [], nextCursor: null });
    expect(result.err).toMatch(/warning: Redis unreachable/);
  });

  it('answers a configuration error with exit 2 naming the variable', async () => {
    const { MONGODB_URL: _unset, ...env } = environment();
    const result = await bufferedIo(env).run('licenses', 'get', 'lic_1');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.err)).toEqual({ error: { code: 'INVALID_CONFIGURATION', message: 'MONGODB_URL: is required but not set' } });
  });

  it('prints help with exit 0', async () => {
    const result = await bufferedIo({}).run('licenses', '--help');
    expect(result.code).toBe(0);
    expect(result.out).toContain('change-plan');
  });
});

/** Runs `npx tsx cli/main.ts ...` as a real process. */
function spawnCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('npx', ['tsx', 'cli/main.ts', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('the keyward process', () => {
  // Three processes, each compiling the CLI with tsx first: slow on a loaded machine.
  it('runs from the command line with the environment of the server', { timeout: 120_000 }, async () => {
    const env = environment();
    const token = await spawnCli(['token', 'create', '--name', 'spawned', '--scope', 'read'], env);
    expect(token.stderr).toContain('shown only once');
    expect(token.code).toBe(0);
    expect(JSON.parse(token.stdout)).toMatchObject({ name: 'spawned', scope: 'read', token: expect.stringMatching(/^kwa_tok_/) });

    const listed = await spawnCli(['licenses', 'list', '--limit', '5'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ data: [], nextCursor: null });

    const missing = await spawnCli(['licenses', 'get', 'lic_nope'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toEqual({ error: { code: 'NOT_FOUND', message: 'No license "lic_nope".' } });
    expect(missing.stdout).toBe('');
  });
});
