/**
 * The check character of a key: a Damm-style check over GF(32).
 *
 * The quasigroup x * y = λ·x ⊕ y over GF(2^5) with λ ∉ {0, 1} is totally anti-symmetric, so a
 * running check over it detects every single-symbol substitution and every transposition of
 * two adjacent symbols, the check symbol itself included (Damm, 2004). Symbols are the values
 * 0..31 of the Crockford alphabet.
 */

/** x^5 + x^2 + 1, a primitive polynomial for GF(32). */
const FIELD_POLYNOMIAL = 0b100101;
/** λ = x, i.e. 2: any element outside {0, 1} works; 2 is primitive, so λ^k never repeats early. */
const LAMBDA = 2;

function multiply(a: number, b: number): number {
  let product = 0;
  let x = a;
  let y = b;
  while (y > 0) {
    if (y & 1) product ^= x;
    y >>= 1;
    x <<= 1;
    if (x & 0b100000) x ^= FIELD_POLYNOMIAL;
  }
  return product;
}

/** STEP[interim * 32 + symbol] is the next interim value. */
const STEP: Uint8Array = (() => {
  const table = new Uint8Array(32 * 32);
  for (let interim = 0; interim < 32; interim++) {
    const scaled = multiply(LAMBDA, interim);
    for (let symbol = 0; symbol < 32; symbol++) table[interim * 32 + symbol] = scaled ^ symbol;
  }
  return table;
})();

/** Folds one more symbol into a running check value. */
export function stepCheck(interim: number, symbol: number): number {
  return STEP[(interim << 5) | symbol] as number;
}

/** The symbol that brings a running check value back to zero. */
export function closingSymbol(interim: number): number {
  // λ·interim ⊕ c = 0 has the single solution c = λ·interim.
  return STEP[interim << 5] as number;
}
