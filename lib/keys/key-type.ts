/**
 * Key types: which prefix names which product and kind of key (production or trial), and how
 * many groups the key body has. A set of key types is checked once, at definition, so that no
 * input can match two of them.
 */
import { ConfigurationError } from '../errors/keyward-error.js';
import { SYMBOL_VALUE } from './crockford.js';
import { stepCheck } from './check-character.js';

/** Characters in one key group. */
export const GROUP_LENGTH = 4;
/** Default and minimum number of body groups: 16 symbols, 15 random (75 bits) plus the check. */
export const DEFAULT_GROUPS = 4;
/** Most body groups a key type may have. */
export const MAX_GROUPS = 16;

/** One kind of key. */
export interface KeyType {
  /** Identifier used in configuration and stored on licenses, e.g. `production`. */
  readonly id: string;
  /** Canonical prefix without the trailing dash, e.g. `TO` or `TO-T`. */
  readonly prefix: string;
  /** Product the key belongs to. */
  readonly product: string;
  /** Whether keys of this type are trial keys. */
  readonly trial: boolean;
  /** Number of 4-character body groups (the last symbol of the last group is the check). */
  readonly groups: number;
}

/** Input for {@link defineKeyTypes}. */
export interface KeyTypeDefinition {
  /** Identifier, unique in the set. */
  readonly id: string;
  /**
   * Prefix: one or more segments of letters and digits joined by dashes (`TO`, `TO-T`). The
   * letter U is not allowed (it is outside Crockford base32); O, I and L read as 0, 1 and 1.
   */
  readonly prefix: string;
  /** Product name. Default `default`. */
  readonly product?: string;
  /** Trial keys. Default `false`. */
  readonly trial?: boolean;
  /** Body groups, from 4 (75 random bits) to 16. Default 4. */
  readonly groups?: number;
}

/** A checked set of key types, ready for parsing. */
export interface KeyTypeSet {
  readonly types: readonly KeyType[];
  /** The key type with this id. */
  readonly byId: (id: string) => KeyType | undefined;
  /** @internal Matchers, longest prefix first. */
  readonly matchers: readonly KeyTypeMatcher[];
}

/** @internal What the parser needs to recognise one key type. */
export interface KeyTypeMatcher {
  readonly type: KeyType;
  /** Folded symbol values of the prefix without dashes. */
  readonly prefixValues: Int8Array;
  /** Symbols after the prefix. */
  readonly bodyLength: number;
  /** Check value after folding in the prefix. */
  readonly checkSeed: number;
}

const PREFIX_PATTERN = /^[0-9A-TV-Z]+(?:-[0-9A-TV-Z]+)*$/;
const ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Folded symbol values of a prefix (dashes dropped). */
export function prefixValues(prefix: string): Int8Array {
  const compact = prefix.replaceAll('-', '');
  const values = new Int8Array(compact.length);
  for (let i = 0; i < compact.length; i++) values[i] = SYMBOL_VALUE[compact.charCodeAt(i)] as number;
  return values;
}

/** Check value after the prefix: the prefix takes part in the check, so a typo there is caught. */
export function prefixCheckSeed(values: Int8Array): number {
  let check = 0;
  for (const value of values) check = stepCheck(check, value);
  return check;
}

/** Upper-cases and checks a prefix; throws a ConfigurationError naming `field`. */
export function normalisePrefix(input: unknown, field: string): string {
  const prefix = typeof input === 'string' ? input.toUpperCase() : '';
  if (!PREFIX_PATTERN.test(prefix) || prefix.replaceAll('-', '').length > 16) {
    throw new ConfigurationError(
      field,
      'must be segments of letters and digits (no U) joined by dashes, at most 16 characters, e.g. "TO" or "TO-T"',
    );
  }
  return prefix;
}

/** Checks a number of body groups; throws a ConfigurationError naming `field`. */
export function checkGroups(groups: unknown, field: string): number {
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < DEFAULT_GROUPS || groups > MAX_GROUPS) {
    throw new ConfigurationError(field, `must be an integer from ${DEFAULT_GROUPS} to ${MAX_GROUPS}`);
  }
  return groups;
}

function normaliseDefinition(definition: KeyTypeDefinition, index: number): KeyType {
  const at = `keyTypes[${index}]`;
  if (typeof definition.id !== 'string' || !ID_PATTERN.test(definition.id)) {
    throw new ConfigurationError(`${at}.id`, 'must be 1-64 lower-case letters, digits, _ . or -');
  }
  const prefix = normalisePrefix(definition.prefix, `${at}.prefix`);
  const groups = checkGroups(definition.groups ?? DEFAULT_GROUPS, `${at}.groups`);
  const product = definition.product ?? 'default';
  if (typeof product !== 'string' || product.length === 0) {
    throw new ConfigurationError(`${at}.product`, 'must be a non-empty string');
  }
  return Object.freeze({ id: definition.id, prefix, product, trial: definition.trial ?? false, groups });
}

function sameValues(a: Int8Array, b: Int8Array): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * Checks a set of key types and prepares it for {@link parseKey}. Throws a
 * {@link ConfigurationError} naming the field when an id repeats, a prefix is malformed, or two
 * types could match the same input (one compact prefix starts the other and the total lengths
 * are equal).
 */
export function defineKeyTypes(definitions: readonly KeyTypeDefinition[]): KeyTypeSet {
  if (!Array.isArray(definitions) || definitions.length === 0) {
    throw new ConfigurationError('keyTypes', 'must be a non-empty array');
  }
  const types = definitions.map(normaliseDefinition);
  const matchers = types.map((type): KeyTypeMatcher => {
    const values = prefixValues(type.prefix);
    return { type, prefixValues: values, bodyLength: type.groups * GROUP_LENGTH, checkSeed: prefixCheckSeed(values) };
  });
  matchers.forEach((a, i) => {
    matchers.forEach((b, j) => {
      if (j <= i) return;
      if (a.type.id === b.type.id) {
        throw new ConfigurationError(`keyTypes[${j}].id`, `repeats the id "${a.type.id}"`);
      }
      const [shorter, longer] = a.prefixValues.length <= b.prefixValues.length ? [a, b] : [b, a];
      const overlaps = sameValues(shorter.prefixValues, longer.prefixValues.subarray(0, shorter.prefixValues.length));
      const sameTotal =
        shorter.prefixValues.length + shorter.bodyLength === longer.prefixValues.length + longer.bodyLength;
      if (overlaps && sameTotal) {
        throw new ConfigurationError(
          `keyTypes[${j}].prefix`,
          `"${b.type.prefix}" and "${a.type.prefix}" can match the same input; change a prefix or the number of groups`,
        );
      }
    });
  });
  const byPrefixLength = [...matchers].sort((a, b) => b.prefixValues.length - a.prefixValues.length);
  const index = new Map(types.map((type) => [type.id, type]));
  return Object.freeze({ types, matchers: byPrefixLength, byId: (id: string) => index.get(id) });
}

/** The example key types of the design: `TO-` production keys and `TO-T-` trial keys. */
export const DEFAULT_KEY_TYPES: KeyTypeSet = defineKeyTypes([
  { id: 'production', prefix: 'TO' },
  { id: 'trial', prefix: 'TO-T', trial: true },
]);
