/**
 * Key generation from the platform CSPRNG.
 *
 * Each random symbol takes the low 5 bits of one random byte: 256 is a multiple of 32, so every
 * symbol is equally likely (no modulo bias). Random bytes are drawn in blocks from a pool,
 * which makes bulk generation cheap.
 */
import { randomFillSync } from 'node:crypto';
import { ConfigurationError } from '../errors/keyward-error.js';
import { SYMBOL_CHAR } from './crockford.js';
import { closingSymbol, stepCheck } from './check-character.js';
import {
  DEFAULT_GROUPS,
  GROUP_LENGTH,
  MAX_GROUPS,
  type KeyType,
  checkGroups,
  normalisePrefix,
  prefixCheckSeed,
  prefixValues,
} from './key-type.js';

/** Fills the array with cryptographically secure random bytes. */
export type RandomFill = (bytes: Uint8Array) => void;

/** Options for {@link generateKey} and {@link generateKeys}. */
export interface GenerateKeyOptions {
  /** Key type to generate; its prefix and groups win over `prefix` and `groups`. */
  readonly type?: KeyType;
  /** Prefix without the trailing dash. Default `TO`. */
  readonly prefix?: string;
  /** Body groups, from 4 (75 random bits) to 16. Default 4. */
  readonly groups?: number;
  /** Random source, for reproducible tests. Default: the platform CSPRNG through a pool. */
  readonly random?: RandomFill;
}

const POOL_SIZE = 16 * 1024;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Random bytes from the pool; each byte is handed out once, then the pool is refilled. */
function takeFromPool(count: number): number {
  if (poolOffset + count > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const offset = poolOffset;
  poolOffset += count;
  return offset;
}

/** A prepared key layout: the prefix and dashes are written once, symbols per key. */
interface Generator {
  /** Character codes of a whole key; the symbol slots are overwritten for each key. */
  readonly codes: number[];
  /** Index in `codes` of each random symbol, in order. */
  readonly symbolSlots: Int32Array;
  /** Index in `codes` of the check symbol. */
  readonly checkSlot: number;
  readonly seed: number;
}

const SYMBOL_CODES = Int32Array.from(SYMBOL_CHAR, (char) => char.charCodeAt(0));
const byPrefix = new Map<string, Generator>();
const byType = new WeakMap<KeyType, Generator>();

function buildGenerator(prefixInput: string, groupsInput: number): Generator {
  const prefix = normalisePrefix(prefixInput, 'prefix');
  const groups = checkGroups(groupsInput, 'groups');
  const layout = `${prefix}-${Array.from({ length: groups }, () => '0'.repeat(GROUP_LENGTH)).join('-')}`;
  const codes = Array.from(layout, (char) => char.charCodeAt(0));
  const slots: number[] = [];
  for (let i = prefix.length + 1; i < codes.length; i++) if (codes[i] !== 0x2d) slots.push(i);
  const checkSlot = slots.pop() as number;
  return { codes, symbolSlots: Int32Array.from(slots), checkSlot, seed: prefixCheckSeed(prefixValues(prefix)) };
}

function generatorFor(options: GenerateKeyOptions): Generator {
  const { type } = options;
  if (type) {
    let generator = byType.get(type);
    if (!generator) byType.set(type, (generator = buildGenerator(type.prefix, type.groups)));
    return generator;
  }
  const prefix = options.prefix ?? 'TO';
  const groups = options.groups ?? DEFAULT_GROUPS;
  const cacheKey = groups === DEFAULT_GROUPS ? prefix : `${prefix}|${groups}`;
  let generator = byPrefix.get(cacheKey);
  if (!generator) {
    generator = buildGenerator(prefix, groups);
    if (byPrefix.size < 256) byPrefix.set(cacheKey, generator);
  }
  return generator;
}

function writeKey(generator: Generator, random: Uint8Array, offset: number): string {
  const { codes, symbolSlots } = generator;
  let check = generator.seed;
  for (let i = 0; i < symbolSlots.length; i++) {
    const value = (random[offset + i] as number) & 31;
    check = stepCheck(check, value);
    codes[symbolSlots[i] as number] = SYMBOL_CODES[value] as number;
  }
  codes[generator.checkSlot] = SYMBOL_CODES[closingSymbol(check)] as number;
  return String.fromCharCode.apply(null, codes);
}

const scratch = new Uint8Array(MAX_GROUPS * GROUP_LENGTH);

/**
 * Generates one key in canonical form, e.g. `TO-A3F2-B891-C4D7-E05Q`.
 * Throws a ConfigurationError for a malformed prefix or group count.
 */
export function generateKey(options: GenerateKeyOptions = {}): string {
  const generator = generatorFor(options);
  const count = generator.symbolSlots.length;
  if (options.random) {
    const bytes = scratch.subarray(0, count);
    options.random(bytes);
    return writeKey(generator, bytes, 0);
  }
  return writeKey(generator, pool, takeFromPool(count));
}

/** Generates `count` distinct keys at once. */
export function generateKeys(count: number, options: GenerateKeyOptions = {}): string[] {
  if (!Number.isInteger(count) || count < 0) throw new ConfigurationError('count', 'must be a non-negative integer');
  const keys = new Set<string>();
  // A repeat among keys of 75 bits or more is astronomically unlikely; the Set still rules it out.
  while (keys.size < count) keys.add(generateKey(options));
  return [...keys];
}
