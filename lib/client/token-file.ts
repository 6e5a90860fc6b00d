/**
 * The last good token on disk, at a path the app chooses, so the app can answer offline until
 * the token expires. The file is not trusted: every read is checked again (signature, product,
 * machine, expiry), so a tampered or copied file is refused, never believed. Written to a
 * temporary file and renamed, so a crash never leaves half a token; readable by the user only.
 */

/** What the file holds. */
interface TokenFileContent {
  readonly version: 1;
  /** SHA-256 of the key as the client normalises it: a token for another key is not used. */
  readonly keyHash: string;
  readonly token: string;
}

/** The key as typed, without case, spaces and dashes, hashed: the file never holds the key itself. */
export async function keyHashOf(key: string): Promise<string> {
  const normalised = key.toUpperCase().replace(/[\s-]/g, '');
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(`keyward-client:${normalised}`));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Reads and writes one token file. */
export class TokenFile {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  /** The token cached for this key hash; null when there is none, it is unreadable, or it is for another key. */
  async read(keyHash: string): Promise<string | null> {
    const fs = await import('node:fs/promises');
    let text: string;
    try {
      text = await fs.readFile(this.#path, 'utf8');
    } catch {
      return null;
    }
    try {
      const content = JSON.parse(text) as Partial<TokenFileContent>;
      return content.version === 1 && content.keyHash === keyHash && typeof content.token === 'string' ? content.token : null;
    } catch {
      return null;
    }
  }

  async write(keyHash: string, token: string): Promise<void> {
    const fs = await import('node:fs/promises');
    const content: TokenFileContent = { version: 1, keyHash, token };
    const temporary = `${this.#path}.${process.pid}.tmp`;
    await fs.writeFile(temporary, JSON.stringify(content), { mode: 0o600 });
    await fs.rename(temporary, this.#path);
  }

  async clear(): Promise<void> {
    const fs = await import('node:fs/promises');
    await fs.rm(this.#path, { force: true });
  }
}
