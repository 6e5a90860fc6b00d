/**
 * Embedding developers `import { ... } from 'keyward'`: the package's exports map must give them
 * the whole core library, with its types. `npm test` builds dist/ first (`npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as library from '../lib/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe("the 'keyward' package", () => {
  it('exports the same values as lib/index.ts, resolved through the exports map by plain Node', () => {
    const script = "const k = await import('keyward'); console.log(JSON.stringify(Object.keys(k).sort()));";
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual(Object.keys(library).sort());
  });

  it('is required as well as imported, at every entry point (Node 20.19+ require of ES modules)', () => {
    const script = "console.log(JSON.stringify(['keyward', 'keyward/service', 'keyward/client'].map((e) => typeof require(e))))";
    const output = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual(['object', 'object', 'object']);
  });

  it('ships type declarations for every export', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      exports: { '.': { types: string } };
    };
    const declarations = path.join(root, manifest.exports['.'].types);
    expect(existsSync(declarations)).toBe(true);
    const text = readFileSync(declarations, 'utf8');
    for (const name of ['generateKey', 'parseKey', 'keyDigest', 'maskKey', 'loadPlanCatalogue', 'applyCommand', 'decideValidation', 'signValidationToken']) {
      expect(text).toContain(name);
    }
  });

  it('exports the public API named by the design', () => {
    for (const name of ['generateKey', 'generateKeys', 'parseKey', 'keyDigest', 'maskKey', 'loadPlanCatalogue', 'issueLicense', 'applyCommand', 'decide', 'decideValidation', 'signValidationToken', 'verifyValidationToken']) {
      expect(typeof (library as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
