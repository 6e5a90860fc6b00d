/**
 * `.keyward/local.env` and `npm run keyward:local`. Invariant: every variable written is read back
 * identically by Node's dotenv parser (`node --env-file`) and by a POSIX shell
 * (`set -a; . file`), whatever its characters; values that cannot be written so are refused.
 * keyward:local follows KEYWARD_DATA_DIR and says which instance it talks to.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { generateTokenKeyPair } from '../../lib/tokens/validation-token.js';
import { formatLocalEnv, writeLocalEnv } from '../../scripts/local-env.js';
import { mongoUrl, redisUrl, uniqueName } from '../setup/services.js';
import { PROJECT_ROOT, runEntryPoint, SPAWN_TIMEOUT_MS, testSecretsEnvironment } from '../support/entry-point.js';

/** What `sh` sees after sourcing `file` with `set -a`, for the given names (NUL-separated). */
function sourcedByShell(file: string, names: readonly string[]): Record<string, string> {
  const script = `set -a; . "$1"; set +a; shift; for name in "$@"; do eval "printf '%s\\0' \\"\\$$name\\""; done`;
  const output = execFileSync('/bin/sh', ['-c', script, 'sh', file, ...names], { env: { PATH: process.env['PATH'] ?? '' } }).toString();
  const values = output.split('\0').slice(0, names.length);
  return Object.fromEntries(names.map((name, index) => [name, values[index] ?? '']));
}

/** Characters a shell or a dotenv parser treats specially, and plain ones. */
const valueCharacter = fc.constantFrom(...'abcXYZ019 $`"\\#=:/?&%*;|<>(){}[]~!@^+,.-_\t'.split(''));
const value = fc.string({ unit: valueCharacter, maxLength: 40 });

describe('local.env', () => {
  it('reads back the same in node and in a POSIX shell, for any value without a quote or line break', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-env-'));
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,11}$/), value, { minKeys: 1, maxKeys: 5 }), (variables) => {
        const file = join(dir, 'local.env');
        writeFileSync(file, formatLocalEnv(variables, ['a comment with $HOME and `backticks`']));
        expect(parseEnv(formatLocalEnv(variables))).toEqual(variables);
        expect(sourcedByShell(file, Object.keys(variables))).toEqual(variables);
      }),
      { numRuns: 60 },
    );
  });

  it('writes the signing key as base64 of its PEM, which the server reads', () => {
    const { privateKey } = generateTokenKeyPair();
    const text = formatLocalEnv({ KEYWARD_SIGNING_KEY: privateKey });
    expect(text).toMatch(/^KEYWARD_SIGNING_KEY='[A-Za-z0-9+/=]+'\n$/);
    expect(Buffer.from(parseEnv(text)['KEYWARD_SIGNING_KEY'] ?? '', 'base64').toString()).toBe(privateKey);
  });

  it('refuses a value that the two readers would read differently, naming the variable', () => {
    expect(() => formatLocalEnv({ SMTP_URL: "smtp://o'brien@host" })).toThrow(/SMTP_URL holds a single quote or a line break/);
    expect(() => formatLocalEnv({ MAIL_FROM: 'a\nb' })).toThrow(/MAIL_FROM/);
  });
});

// Each test starts Node processes that compile the entry point with tsx: slow on a loaded machine.
describe('npm run keyward:local', { timeout: SPAWN_TIMEOUT_MS }, () => {
  /** A data directory whose local.env points at the run's data stores, as `npm start` writes it. */
  function instanceDir(): string {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'keyward-local-')), 'instance');
    mkdirSync(dataDir);
    writeLocalEnv(dataDir, {
      KEYWARD_URL: 'http://127.0.0.1:18080',
      KEYWARD_DATA_DIR: dataDir,
      REDIS_URL: redisUrl(),
      MONGODB_URL: mongoUrl(),
      MONGODB_DB: uniqueName('local'),
      KEYWARD_PLANS_FILE: join(PROJECT_ROOT, 'config', 'plans.json'),
      ...testSecretsEnvironment(),
    });
    return dataDir;
  }

  it('reads the local.env of KEYWARD_DATA_DIR and says which instance it talks to', async () => {
    const dataDir = instanceDir();
    // The working directory has no .keyward: only KEYWARD_DATA_DIR leads to the instance.
    const cwd = mkdtempSync(join(tmpdir(), 'keyward-cwd-'));
    // The README's first command: the very first admin token, straight into the instance's database.
    const end = await runEntryPoint('scripts/keyward-local.ts', { KEYWARD_DATA_DIR: dataDir, KEYWARD_TOKEN: '' }, { cwd, args: ['token', 'create', '--name', 'ops', '--scope', 'write'] }).ended;
    expect(end.stderr.split('\n')[0]).toBe(`keyward:local: talking to the Keyward on ${dataDir} (http://127.0.0.1:18080, its process is unknown)`);
    expect(end.stderr).toContain('creating the token directly in the database at MONGODB_URL');
    expect(JSON.parse(end.stdout)).toMatchObject({ name: 'ops', scope: 'write', token: expect.stringMatching(/^kwa_tok_/) as unknown });
    expect(end.code).toBe(0);
  });

  it('without a local.env there, says no instance runs on that directory and how to start one', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'keyward-none-')), 'elsewhere');
    const end = await runEntryPoint('scripts/keyward-local.ts', { KEYWARD_DATA_DIR: dataDir }, { args: ['token', 'list'] }).ended;
    expect(end.code).toBe(2);
    expect(end.stderr).toMatch(new RegExp(`^keyward:local: no Keyward is running on ${dataDir} .*start one with \`npm start\` \\(with the same KEYWARD_DATA_DIR\\)`));
  });
});
