/**
 * The dependency rules of style.md, point 1 and 11, as a specification: pure modules of lib/
 * import no I/O client, lib/ never imports outward, and no imports form a cycle. The same
 * rules run in `npm run check`; here they are also shown to fail on fixtures that break them.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type IViolation } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
type RuleSet = NonNullable<ICruiseOptions['ruleSet']>;
const config = createRequire(import.meta.url)(path.join(root, '.dependency-cruiser.cjs')) as {
  forbidden: NonNullable<RuleSet['forbidden']>;
  options: ICruiseOptions;
};

async function violationsIn(folder: string, entries: string[]): Promise<IViolation[]> {
  const previous = process.cwd();
  process.chdir(folder);
  try {
    const result = await cruise(entries, {
      ...config.options,
      ruleSet: { forbidden: config.forbidden },
      tsConfig: { fileName: path.join(root, 'tsconfig.json') },
      validate: true,
    });
    if (typeof result.output === 'string') throw new Error(result.output);
    return result.output.summary.violations;
  } finally {
    process.chdir(previous);
  }
}

describe('architecture rules', () => {
  it('hold for the project', async () => {
    const violations = await violationsIn(root, ['lib', 'server', 'worker', 'embedded', 'scripts', 'cli', 'runtime']);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('refuse an I/O client in a pure module, a cycle and a runtime import of the core by the client SDK, but allow the I/O edge and type imports', async () => {
    const violations = await violationsIn(path.join(root, 'test/fixtures/architecture'), ['lib']);
    const found = violations.map((v) => `${v.rule.name}: ${v.from}`).sort();
    expect(found).toEqual(['client-self-contained: lib/client/uses-core.ts', 'no-circular: lib/plans/cycle-a.ts', 'pure-lib-no-io: lib/keys/imports-io.ts']);
  });
});
