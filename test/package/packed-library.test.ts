/**
 * The published library as an app gets it: `npm run package:library` packs it, a fresh project
 * installs the tarball (from the npm cache where it can), imports and requires every entry
 * point, and type-checks against mongodb 6 and 7. Embedding the core installs no server
 * dependency and no source map; the installed size is measured.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { generateTokenKeyPair } from '../../lib/tokens/validation-token.js';
import { issueLicense } from '../support/licenses.js';
import { startTestServer } from '../support/server-fixture.js';
import { mongoUrl, uniqueName } from '../setup/services.js';

const execFileAsync = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRIES = ['keyward', 'keyward/service', 'keyward/client'];

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
}

function npmInstall(cwd: string, specs: string[]): void {
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...specs], cwd);
}

/** Every file under a folder with its size. */
function filesUnder(folder: string): Array<{ file: string; bytes: number }> {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((file) => path.join(folder, file))
    .filter((file) => statSync(file).isFile())
    .map((file) => ({ file, bytes: statSync(file).size }));
}

/** The first fenced block of `language` after `marker` in a document of the project. */
function codeBlockAfter(document: string, marker: string, language: string): string {
  const text = readFileSync(path.join(root, document), 'utf8');
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${document}: no "${marker}"`);
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(text.slice(at));
  if (!match?.[1]) throw new Error(`${document}: no ${language} block after "${marker}"`);
  return match[1];
}

/** Runs a TypeScript file of the consumer project with tsx, as a reader of the README would. */
function runTypeScript(file: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--import', pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href, file], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

let tarball = '';
let project = '';

beforeAll(() => {
  tarball = run(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/package-library.ts'], root).trim().split('\n').at(-1) ?? '';
  project = mkdtempSync(path.join(tmpdir(), 'keyward-consumer-'));
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  npmInstall(project, [tarball]);
}, 600_000);

describe('the packed keyward library', () => {
  it('installs only what the library imports: no server stack, no source maps, and a measured size', { timeout: 120_000 }, () => {
    const installed = readdirSync(path.join(project, 'node_modules')).filter((name) => !name.startsWith('.'));
    expect(installed.sort()).toEqual(['keyward', 'lru-cache', 'ulid', 'zod']);
    const files = filesUnder(path.join(project, 'node_modules'));
    const keywardFiles = files.filter(({ file }) => file.includes(`${path.sep}keyward${path.sep}`));
    expect(keywardFiles.filter(({ file }) => file.endsWith('.map'))).toEqual([]);
    expect(keywardFiles.filter(({ file }) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    const total = files.reduce((sum, { bytes }) => sum + bytes, 0);
    const own = keywardFiles.reduce((sum, { bytes }) => sum + bytes, 0);
    console.info(`keyward core install: ${installed.length} packages, ${(total / 1e6).toFixed(1)} MB (keyward itself ${(own / 1e6).toFixed(2)} MB)`);
    expect(total).toBeLessThan(20e6);
  });

  it('is imported and required at every entry point, with the same exports both ways', { timeout: 120_000 }, () => {
    const imported = run(
      process.execPath,
      ['--input-type=module', '-e', `const out = {}; for (const e of ${JSON.stringify(ENTRIES)}) out[e] = Object.keys(await import(e)).sort(); console.log(JSON.stringify(out));`],
      project,
    );
    const required = run(
      process.execPath,
      ['-e', `const out = {}; for (const e of ${JSON.stringify(ENTRIES)}) out[e] = Object.keys(require(e)).filter((k) => k !== '__esModule' && k !== 'module.exports').sort(); console.log(JSON.stringify(out));`],
      project,
    );
    const byImport = JSON.parse(imported) as Record<string, string[]>;
    expect(JSON.parse(required)).toEqual(byImport);
    expect(byImport['keyward']).toEqual(expect.arrayContaining(['generateKey', 'decideValidation', 'createSigningKeySet', 'verifyValidationToken']));
    expect(byImport['keyward/service']).toEqual(expect.arrayContaining(['createKeyward', 'LicenseService']));
    expect(byImport['keyward/client']).toEqual(expect.arrayContaining(['createKeywardClient', 'KeywardClient']));
  });

  it('runs the README snippets as written: the pure core, and the service on the test MongoDB', { timeout: 300_000 }, () => {
    npmInstall(project, ['mongodb@6']);
    const pair = generateTokenKeyPair();
    const env = {
      MONGODB_URL: mongoUrl(),
      MONGODB_DB: uniqueName('readme'),
      KEYWARD_DIGEST_SECRET: 'readme-digest-secret-0123456789abcdefghijklmnop',
      KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
      // The base64 form the configuration table promises.
      KEYWARD_SIGNING_KEY: Buffer.from(pair.privateKey).toString('base64'),
    };
    writeFileSync(path.join(project, 'readme-core.mts'), codeBlockAfter('README.md', '## Embedding the library', 'ts'));
    expect(runTypeScript('readme-core.mts', env)).toMatch(/^TO-\*{4}-\*{4}-\*{4}-[0-9A-Z]{4}$/m);

    writeFileSync(path.join(project, 'readme-service.mts'), codeBlockAfter('README.md', 'With storage, without the HTTP server', 'ts'));
    expect(runTypeScript('readme-service.mts', env).trim().split('\n')).toEqual(['VALID true', 'SUSPENDED']);
  });

  it('runs the example app of docs/client.md against a real server, then offline from its cache', { timeout: 300_000 }, async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'pro' });
    writeFileSync(path.join(project, 'license-check.mjs'), codeBlockAfter('docs/client.md', '## Example app', 'js'));
    writeFileSync(path.join(project, 'keyward-jwks.json'), await (await fetch(`${server.url}/.well-known/jwks.json`)).text());
    const dataDir = mkdtempSync(path.join(tmpdir(), 'keyward-app-data-'));
    // Asynchronously: the server answers from this very process.
    const launch = async () => {
      const run = await execFileAsync(process.execPath, ['license-check.mjs', license.key], {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, KEYWARD_URL: server.url, APP_DATA_DIR: dataDir },
      }).catch((error: { stdout: string; stderr: string }) => error);
      return `${run.stdout}${run.stderr}`;
    };

    expect(await launch()).toMatch(/^Licensed \(server\): plan pro, offline until \d{4}-/);
    expect(await launch()).toMatch(/^Licensed \(server\)/); // the seat is taken once, then validated
    await server.stop();
    expect(await launch()).toMatch(/^Licensed \(cache\): plan pro/);
  });

  it('type-checks an ESM and a CommonJS consumer against mongodb 6 and 7', { timeout: 600_000 }, () => {
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(root, 'node_modules/@types')],
        },
        include: ['*.mts', '*.cts'],
      }),
    );
    writeFileSync(
      path.join(project, 'consumer.mts'),
      [
        "import { MongoClient } from 'mongodb';",
        "import { generateKey, type ValidationDecision } from 'keyward';",
        "import { createKeyward, type Keyward } from 'keyward/service';",
        "import { createKeywardClient, type ClientFailure, type ValidationResult } from 'keyward/client';",
        "const db = new MongoClient('mongodb://127.0.0.1:1').db('app');",
        "export const open = (): Promise<Keyward> => createKeyward({ db, plans: { plans: [] }, secrets: { digest: 'd', encryption: 'e' } });",
        "export const key: string = generateKey({ prefix: 'TO' });",
        'export type Decision = ValidationDecision;',
        "const client = createKeywardClient({ serverUrl: 'https://licenses.example.com', product: 'editor', fingerprint: 'fp' });",
        'export const answer: Promise<ValidationResult | ClientFailure> = client.validate(key);',
      ].join('\n'),
    );
    writeFileSync(
      path.join(project, 'consumer.cts'),
      [
        "import keyward = require('keyward');",
        "import service = require('keyward/service');",
        "import client = require('keyward/client');",
        "export const key: string = keyward.generateKey({ prefix: 'TO' });",
        'export const create: typeof service.createKeyward = service.createKeyward;',
        "export const sdk = client.createKeywardClient({ serverUrl: 'https://licenses.example.com', product: 'editor', domain: 'example.com' });",
      ].join('\n'),
    );
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    for (const major of ['6', '7']) {
      npmInstall(project, [`mongodb@${major}`]);
      const version = (JSON.parse(readFileSync(path.join(project, 'node_modules/mongodb/package.json'), 'utf8')) as { version: string }).version;
      expect(version.startsWith(`${major}.`)).toBe(true);
      expect(() => run(process.execPath, [tsc, '-p', project], project), `mongodb ${version}`).not.toThrow();
    }
  });
});
