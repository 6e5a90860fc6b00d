/**
 * Parsing typed or pasted keys into their canonical form, without touching any database.
 *
 * Forgiving of what people do by accident (case, spaces, missing or extra dashes, pasted
 * typographic dashes, O for 0 and I or L for 1) and strict about everything else: a key that
 * fails here is MALFORMED_KEY with the reason, and a single typo or swap is caught by the check
 * character.
 */
import { INVALID, SEPARATOR, SYMBOL_CHAR, SYMBOL_VALUE, isUnicodeSeparator } from './crockford.js';
import { stepCheck } from './check-character.js';
import { DEFAULT_KEY_TYPES, GROUP_LENGTH, type KeyType, type KeyTypeMatcher, type KeyTypeSet } from './key-type.js';

/** Why a key is malformed. */
export type MalformedKeyReason =
  | 'NOT_A_STRING'
  | 'EMPTY'
  | 'BAD_LENGTH'
  | 'BAD_CHARACTER'
  | 'BAD_CHECK_CHARACTER'
  | 'UNKNOWN_PREFIX';

/** A key that cannot be a key: a value, not an exception. */
export interface MalformedKey {
  readonly code: 'MALFORMED_KEY';
  readonly reason: MalformedKeyReason;
  /** A sentence the user can act on; never contains the key itself. */
  readonly message: string;
  /** For BAD_CHARACTER: 1-based position in the input as typed. */
  readonly position?: number;
}

/** A well-formed key. */
export interface ParsedKey {
  readonly ok: true;
  /** Canonical form, e.g. `TO-T-A3F2-B891-C4D7-E05Q`. */
  readonly key: string;
  readonly type: KeyType;
}

/** Outcome of {@link parseKey}. */
export type ParseKeyResult = ParsedKey | { readonly ok: false; readonly error: MalformedKey };

/** Longest input looked at; anything longer is BAD_LENGTH without further work. */
export const MAX_KEY_INPUT_LENGTH = 256;

// Reused between calls: parsing is synchronous, so no two calls ever share it.
const values = new Int8Array(MAX_KEY_INPUT_LENGTH);

/** Canonical layout of a key type: prefix and dashes written once, body symbols per parse. */
interface Layout {
  readonly codes: number[];
  /** Index in `codes` of each body symbol, in order. */
  readonly slots: Int32Array;
}

const layouts = new WeakMap<KeyTypeMatcher, Layout>();
const SYMBOL_CODES = Int32Array.from(SYMBOL_CHAR, (char) => char.charCodeAt(0));

function layoutOf(matcher: KeyTypeMatcher): Layout {
  let layout = layouts.get(matcher);
  if (!layout) {
    const { prefix, groups } = matcher.type;
    const text = `${prefix}-${Array.from({ length: groups }, () => '0'.repeat(GROUP_LENGTH)).join('-')}`;
    const codes = Array.from(text, (char) => char.charCodeAt(0));
    const slots: number[] = [];
    for (let i = prefix.length + 1; i < codes.length; i++) if (codes[i] !== 0x2d) slots.push(i);
    layouts.set(matcher, (layout = { codes, slots: Int32Array.from(slots) }));
  }
  return layout;
}

function sameCodes(input: string, codes: readonly number[]): boolean {
  if (input.length !== codes.length) return false;
  for (let i = 0; i < codes.length; i++) if (input.charCodeAt(i) !== codes[i]) return false;
  return true;
}

/** 1-based position in the input of the n-th (0-based) character that is not a separator. */
function inputPosition(input: string, n: number): number {
  let seen = 0;
  for (let i = 0; i < input.length; i++) {
    const code = input.charCodeAt(i);
    const separator = code < 128 ? SYMBOL_VALUE[code] === SEPARATOR : isUnicodeSeparator(code);
    if (separator) continue;
    if (seen === n) return i + 1;
    seen++;
  }
  return input.length;
}

function malformed(reason: MalformedKeyReason, message: string, position?: number): ParseKeyResult {
  const error: MalformedKey =
    position === undefined ? { code: 'MALFORMED_KEY', reason, message } : { code: 'MALFORMED_KEY', reason, message, position };
  return { ok: false, error };
}

function prefixMatches(matcher: KeyTypeMatcher): boolean {
  const prefix = matcher.prefixValues;
  for (let i = 0; i < prefix.length; i++) if (values[i] !== prefix[i]) return false;
  return true;
}

function describePrefixes(types: KeyTypeSet): string {
  return types.types.map((type) => `${type.prefix}-`).join(', ');
}

/**
 * Reads a key as typed and returns its canonical form and type, or MALFORMED_KEY saying what
 * is wrong. `types` defaults to {@link DEFAULT_KEY_TYPES} (`TO-` and `TO-T-`).
 */
export function parseKey(input: unknown, types: KeyTypeSet = DEFAULT_KEY_TYPES): ParseKeyResult {
  if (typeof input !== 'string') return malformed('NOT_A_STRING', 'The license key must be a string.');
  if (input.length > MAX_KEY_INPUT_LENGTH) {
    return malformed('BAD_LENGTH', `The license key is too long (at most ${MAX_KEY_INPUT_LENGTH} characters are read).`);
  }
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const code = input.charCodeAt(i);
    const value = code < 128 ? (SYMBOL_VALUE[code] as number) : isUnicodeSeparator(code) ? SEPARATOR : INVALID;
    if (value === SEPARATOR) continue;
    values[length++] = value;
  }
  if (length === 0) return malformed('EMPTY', 'Enter a license key.');

  let match: KeyTypeMatcher | undefined;
  let prefixOnly: KeyTypeMatcher | undefined;
  const { matchers } = types;
  for (let m = 0; m < matchers.length; m++) {
    const matcher = matchers[m] as KeyTypeMatcher;
    if (length < matcher.prefixValues.length || !prefixMatches(matcher)) continue;
    if (length === matcher.prefixValues.length + matcher.bodyLength) {
      match = matcher;
      break;
    }
    prefixOnly ??= matcher;
  }
  if (!match) {
    if (!prefixOnly) {
      return malformed('UNKNOWN_PREFIX', `The license key does not start with a known prefix (${describePrefixes(types)}).`);
    }
    const expected = prefixOnly.bodyLength;
    const found = length - prefixOnly.prefixValues.length;
    return malformed(
      'BAD_LENGTH',
      `A ${prefixOnly.type.prefix}- key has ${expected} characters after its prefix; this one has ${found}.`,
    );
  }

  const start = match.prefixValues.length;
  const { codes, slots } = layoutOf(match);
  let check = match.checkSeed;
  for (let i = start; i < length; i++) {
    const value = values[i] as number;
    if (value === INVALID) {
      const position = inputPosition(input, i);
      return malformed(
        'BAD_CHARACTER',
        `Character ${position} of the license key is not used in keys (keys use 0-9 and A-Z without I, L, O and U).`,
        position,
      );
    }
    check = stepCheck(check, value);
    codes[slots[i - start] as number] = SYMBOL_CODES[value] as number;
  }
  if (check !== 0) {
    return malformed('BAD_CHECK_CHARACTER', 'The license key contains a typo: check it character by character.');
  }
  // Clients mostly send the canonical form already: return it as is rather than build a copy.
  const key = sameCodes(input, codes) ? input : String.fromCharCode.apply(null, codes);
  return { ok: true, key, type: match.type };
}
