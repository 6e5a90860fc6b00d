/**
 * Every key-shaped string in README.md and docs/ passes the key check (parseKey: prefix, length,
 * check character), unless the same line says it is `invalid on purpose`. Key-shaped: a prefix
 * of letters (with `-T` for trials), then three or more groups of four letters and digits
 * separated by `-` or a space, with a digit in it or written in capitals (so prose does not
 * count); `XXXX` groups are format notation, not keys.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseKey } from '../../lib/keys/parse-key.js';
import { PROJECT_ROOT } from '../support/entry-point.js';

/** The marker that exempts a deliberately wrong key on its line. */
const INVALID_ON_PURPOSE = 'invalid on purpose';

const KEY_SHAPE = /(?<![0-9A-Za-z])[A-Za-z]{1,8}(?:-[Tt])?[- ](?:[0-9A-Za-z]{4}[- ]){2,}[0-9A-Za-z]{4}(?![0-9A-Za-z])/g;

/** Key-shaped strings of a text, with their line numbers and whether they are marked invalid. */
export function keyShapedStrings(text: string): Array<{ line: number; key: string; marked: boolean }> {
  return text.split('\n').flatMap((content, index) =>
    [...content.matchAll(KEY_SHAPE)]
      .map((match) => match[0])
      .filter((candidate) => (/\d/.test(candidate) || candidate === candidate.toUpperCase()) && !/XXXX/.test(candidate))
      .map((key) => ({ line: index + 1, key, marked: content.includes(INVALID_ON_PURPOSE) })),
  );
}

const documents = ['README.md', ...readdirSync(join(PROJECT_ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

describe('sample keys in the documentation', () => {
  it.each(documents)('%s: every key-shaped string passes the check, or is marked invalid on purpose', (document) => {
    const found = keyShapedStrings(readFileSync(join(PROJECT_ROOT, document), 'utf8'));
    const wrong = found.filter(({ key, marked }) => !marked && !parseKey(key).ok).map(({ line, key }) => `${document}:${line} ${key}`);
    expect(wrong).toEqual([]);
    // A marked key must really be invalid, or the mark misleads.
    const markedValid = found.filter(({ key, marked }) => marked && parseKey(key).ok).map(({ line, key }) => `${document}:${line} ${key}`);
    expect(markedValid).toEqual([]);
  });

  it('finds the README samples, in their forgiving spellings too', () => {
    const keys = keyShapedStrings(readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')).map(({ key }) => key);
    expect(keys).toEqual(expect.arrayContaining(['TO-A3F2-B891-C4D7-E05N', 'to-a3f2 b891-c4d7-e05n', 'TO-A3F2-B891-C4D7-E05Q']));
  });

  it('tells keys from prose and placeholders', () => {
    expect(keyShapedStrings('a check with four more than half').map(({ key }) => key)).toEqual([]);
    expect(keyShapedStrings('TO-XXXX-XXXX-XXXX-XXXX and PREFIX-XXXX-XXXX-XXXX-XXXX').map(({ key }) => key)).toEqual([]);
    expect(keyShapedStrings('TO-T-A3F2-B891-C4D7-E05Q (invalid on purpose)')).toEqual([{ line: 1, key: 'TO-T-A3F2-B891-C4D7-E05Q', marked: true }]);
  });
});
