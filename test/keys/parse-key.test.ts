import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CROCKFORD_ALPHABET } from '../../lib/keys/crockford.js';
import { generateKey } from '../../lib/keys/generate-key.js';
import { DEFAULT_KEY_TYPES, defineKeyTypes } from '../../lib/keys/key-type.js';
import { parseKey, type MalformedKeyReason } from '../../lib/keys/parse-key.js';

/** A fixed key whose check character is correct, built from a known random source. */
/** Fixed keys whose bodies contain 0 and 1, so every confusion below really changes them. */
const fixedKey = generateKey({ random: (bytes) => bytes.forEach((_, i) => (bytes[i] = i)) });
const trialKey = generateKey({ prefix: 'TO-T', random: (bytes) => bytes.forEach((_, i) => (bytes[i] = (i * 3) % 32)) });

const keyArbitrary = fc
  .record({ prefix: fc.constantFrom('TO', 'TO-T'), seed: fc.uint8Array({ minLength: 15, maxLength: 15 }) })
  .map(({ prefix, seed }) => generateKey({ prefix, random: (bytes) => bytes.set(seed) }));

describe('parseKey: forgiving of what people do by accident', () => {
  it.each([
    ['lower case', (k: string) => k.toLowerCase()],
    ['no dashes', (k: string) => k.replaceAll('-', '')],
    ['spaces instead of dashes', (k: string) => k.replaceAll('-', ' ')],
    ['extra dashes and surrounding whitespace', (k: string) => `  ${k.replaceAll('-', '--')}\n`],
    ['typographic dashes pasted from a document', (k: string) => k.replaceAll('-', '\u2013')],
    ['O typed for 0', (k: string) => k.slice(0, 3) + k.slice(3).replaceAll('0', 'O')],
    ['I typed for 1', (k: string) => k.slice(0, 3) + k.slice(3).replaceAll('1', 'I')],
    ['l typed for 1', (k: string) => k.slice(0, 3) + k.slice(3).replaceAll('1', 'l')],
  ])('%s', (_name, mangle) => {
    for (const key of [fixedKey, trialKey]) {
      expect(mangle(key)).not.toBe(key);
      expect(parseKey(mangle(key))).toEqual(parseKey(key));
      expect(parseKey(mangle(key))).toMatchObject({ ok: true, key });
    }
  });

  it('returns the key type of the prefix', () => {
    expect(parseKey(fixedKey)).toMatchObject({ ok: true, type: { id: 'production', trial: false } });
    expect(parseKey(trialKey)).toMatchObject({ ok: true, type: { id: 'trial', trial: true } });
  });

  it('round-trips every generated key, in any mix of case and separators', () => {
    fc.assert(
      fc.property(keyArbitrary, fc.array(fc.constantFrom('', ' ', '-', '--'), { minLength: 32, maxLength: 32 }), fc.boolean(), (key, separators, lower) => {
        const compact = key.replaceAll('-', '');
        let typed = '';
        for (let i = 0; i < compact.length; i++) typed += (separators[i] ?? '') + compact[i];
        const parsed = parseKey(lower ? typed.toLowerCase() : typed);
        expect(parsed.ok && parsed.key).toBe(key);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseKey: MALFORMED_KEY says what is wrong', () => {
  const table: Array<[string, unknown, MalformedKeyReason]> = [
    ['not a string', 42, 'NOT_A_STRING'],
    ['empty', '', 'EMPTY'],
    ['only separators', ' - - ', 'EMPTY'],
    ['unknown prefix', 'XY-A3F2-B891-C4D7-E05Q', 'UNKNOWN_PREFIX'],
    ['one character short', fixedKey.slice(0, -1), 'BAD_LENGTH'],
    ['one character too many', `${fixedKey}7`, 'BAD_LENGTH'],
    ['far too long', 'TO-'.padEnd(10_000, 'A'), 'BAD_LENGTH'],
    ['U is not in the alphabet', `${fixedKey.slice(0, -1)}U`, 'BAD_CHARACTER'],
    ['punctuation', `${fixedKey.slice(0, -1)}!`, 'BAD_CHARACTER'],
    ['non-ASCII letter', `${fixedKey.slice(0, -1)}É`, 'BAD_CHARACTER'],
    ['wrong check character', `${fixedKey.slice(0, -1)}${fixedKey.endsWith('0') ? '1' : '0'}`, 'BAD_CHECK_CHARACTER'],
  ];
  it.each(table)('%s → %s', (_name, input, reason) => {
    const parsed = parseKey(input);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.code).toBe('MALFORMED_KEY');
    expect(parsed.error.reason).toBe(reason);
    expect(parsed.error.message.length).toBeGreaterThan(10);
  });

  it('gives the position of a bad character as typed', () => {
    const typed = ` ${fixedKey.slice(0, 8)}*${fixedKey.slice(9)}`;
    const parsed = parseKey(typed);
    expect(parsed).toMatchObject({ ok: false, error: { reason: 'BAD_CHARACTER', position: 10 } });
  });

  it('never echoes the key in its message', () => {
    const parsed = parseKey(`${fixedKey.slice(0, -1)}U`);
    expect(!parsed.ok && parsed.error.message).not.toContain(fixedKey.slice(3, 7));
  });
});

const fold = (char: string | undefined) => (char === 'O' ? '0' : char);

describe('the check character', () => {
  const sample = fc.sample(keyArbitrary, { numRuns: 200, seed: 42 });
  const alphabet = Array.from(CROCKFORD_ALPHABET);

  it('rejects every single-character substitution of a sample of keys (exhaustive on the sample)', () => {
    let tried = 0;
    for (const key of sample) {
      for (let i = 0; i < key.length; i++) {
        if (key[i] === '-') continue;
        for (const symbol of alphabet) {
          if (symbol === key[i]) continue;
          const typo = key.slice(0, i) + symbol + key.slice(i + 1);
          // O reads as 0 by design, so "T0-…" is the same key as "TO-…", not a typo.
          if (key[i] === 'O' && symbol === '0') continue;
          expect(parseKey(typo).ok, `${key} → ${typo}`).toBe(false);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(200 * 16 * 30);
  });

  it('rejects every adjacent transposition of a sample of keys (exhaustive on the sample)', () => {
    let tried = 0;
    for (const key of sample) {
      const compact = key.replaceAll('-', '');
      for (let i = 0; i + 1 < compact.length; i++) {
        // O reads as 0: swapping "O" and "0" (in the prefix "TO" + body "0…") changes nothing.
        if (fold(compact[i]) === fold(compact[i + 1])) continue;
        const swapped = compact.slice(0, i) + compact[i + 1] + compact[i] + compact.slice(i + 2);
        expect(parseKey(swapped).ok, `${key}: swap at ${i}`).toBe(false);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(200 * 10);
  });
});

describe('defineKeyTypes', () => {
  it('parses keys of configured products and group counts', () => {
    const types = defineKeyTypes([
      { id: 'acme', prefix: 'ACME', product: 'acme' },
      { id: 'acme-long', prefix: 'ACME-X', product: 'acme', groups: 6 },
    ]);
    const long = generateKey({ type: types.byId('acme-long') ?? DEFAULT_KEY_TYPES.types[0]! });
    expect(long).toMatch(/^ACME-X(-[0-9A-Z]{4}){6}$/);
    expect(parseKey(long, types)).toMatchObject({ ok: true, key: long, type: { id: 'acme-long', groups: 6 } });
    expect(parseKey(fixedKey, types)).toMatchObject({ ok: false, error: { reason: 'UNKNOWN_PREFIX' } });
  });

  it.each([
    ['empty list', [], 'keyTypes'],
    ['bad id', [{ id: 'Bad Id', prefix: 'TO' }], 'keyTypes[0].id'],
    ['U in prefix', [{ id: 'a', prefix: 'UX' }], 'keyTypes[0].prefix'],
    ['too few groups', [{ id: 'a', prefix: 'TO', groups: 3 }], 'keyTypes[0].groups'],
    ['repeated id', [{ id: 'a', prefix: 'TO' }, { id: 'a', prefix: 'XX' }], 'keyTypes[1].id'],
    // "TO" + 5 groups and "TOT" + ... never collide by length; "TO" and "T0" do, since O reads as 0.
    ['prefixes that read the same', [{ id: 'a', prefix: 'TO' }, { id: 'b', prefix: 'T0' }], 'keyTypes[1].prefix'],
  ])('refuses %s, naming the field', (_name, definitions, field) => {
    expect(() => defineKeyTypes(definitions)).toThrowError(expect.objectContaining({ name: 'ConfigurationError', context: { field } }));
  });
});
