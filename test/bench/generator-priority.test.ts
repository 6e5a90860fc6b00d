import { execFileSync } from 'node:child_process';
import { getPriority } from 'node:os';

import { describe, expect, it } from 'vitest';

import { atGeneratorPriority, generatorNiceness } from '../../bench/generator-priority.js';

describe('load generator priority', () => {
  it('is niceness 10 unless BENCH_GENERATOR_NICENESS says otherwise', () => {
    expect(generatorNiceness({})).toBe(10);
    expect(generatorNiceness({ BENCH_GENERATOR_NICENESS: '' })).toBe(10);
    expect(generatorNiceness({ BENCH_GENERATOR_NICENESS: '0' })).toBe(0);
    expect(generatorNiceness({ BENCH_GENERATOR_NICENESS: '19' })).toBe(19);
  });

  it.each(['-1', '20', '2.5', 'low'])('names BENCH_GENERATOR_NICENESS when it is %j', (text) => {
    expect(() => generatorNiceness({ BENCH_GENERATOR_NICENESS: text })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', context: { field: 'BENCH_GENERATOR_NICENESS' } }),
    );
  });

  it('starts the generator under nice, so that every thread it makes has the lower priority', () => {
    const [command, args] = atGeneratorPriority(process.execPath, ['-e', 'process.stdout.write(String(require("node:os").getPriority()))'], 7);

    expect(command).toBe('nice');
    // nice adds to the niceness this test runs at.
    expect(execFileSync(command, args, { encoding: 'utf8' })).toBe(String(Math.min(19, getPriority() + 7)));
  });

  it('runs the generator as it is at niceness 0', () => {
    expect(atGeneratorPriority('vegeta', ['attack'], 0)).toEqual(['vegeta', ['attack']]);
  });
});
