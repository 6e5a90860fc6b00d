/**
 * Crockford base32: the 32 symbols of a key body, and the forgiving read of typed input.
 *
 * The alphabet leaves out I, L, O and U so that keys read aloud or copied by hand stay
 * unambiguous; on input, O reads as 0 and I/L as 1 (Crockford's own decoding rules).
 */

/** The 32 symbols in value order. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Marks a character code that is skipped on input (whitespace and dashes). */
export const SEPARATOR = -2;
/** Marks a character code that can never appear in a key. */
export const INVALID = -1;

/**
 * Value of each character code below 128 after folding: 0..31 for a symbol, {@link SEPARATOR}
 * or {@link INVALID}. Lower case reads as upper case.
 */
export const SYMBOL_VALUE: Int8Array = buildSymbolValues();

/** Character codes of the alphabet, indexed by value, for building strings without lookups. */
export const SYMBOL_CHAR: readonly string[] = Array.from(CROCKFORD_ALPHABET);

function buildSymbolValues(): Int8Array {
  const table = new Int8Array(128).fill(INVALID);
  for (let value = 0; value < CROCKFORD_ALPHABET.length; value++) {
    const upper = CROCKFORD_ALPHABET.charCodeAt(value);
    table[upper] = value;
    table[String.fromCharCode(upper).toLowerCase().charCodeAt(0)] = value;
  }
  for (const [from, to] of [['O', '0'], ['I', '1'], ['L', '1']] as const) {
    const value = CROCKFORD_ALPHABET.indexOf(to);
    table[from.charCodeAt(0)] = value;
    table[from.toLowerCase().charCodeAt(0)] = value;
  }
  for (const separator of [' ', '\t', '\n', '\r', '-', '_']) {
    table[separator.charCodeAt(0)] = SEPARATOR;
  }
  return table;
}

/**
 * Dash-like characters people paste from documents and e-mail (hyphen, non-breaking hyphen,
 * figure dash, en and em dash, minus sign) and spaces outside ASCII; all read as separators.
 */
export function isUnicodeSeparator(code: number): boolean {
  return (
    (code >= 0x2010 && code <= 0x2015) ||
    code === 0x2212 ||
    code === 0x00a0 ||
    code === 0x202f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
