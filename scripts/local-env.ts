/**
 * `.keyward/local.env`: how the CLI (`npm run keyward:local`) and a shell reach the instance
 * that `npm start` runs on a data directory. One format read by both `node --env-file` and a
 * POSIX shell (`set -a; . .keyward/local.env; set +a`): `NAME='value'` lines, single-quoted so
 * neither expands anything, and `#` comments. A single quote or a line break cannot be written
 * so that both read it alike, so such values are refused; the signing key, a multi-line PEM,
 * is written as the base64 of its PEM, which the server reads as well.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** Name of the file inside the data directory. */
export const LOCAL_ENV_FILE = 'local.env';

/** The path of the local.env of `dataDir`. */
export function localEnvPath(dataDir: string): string {
  return join(dataDir, LOCAL_ENV_FILE);
}

/**
 * The text of a local.env: a comment per line of `comments`, then one `NAME='value'` line per variable.
 *
 * @throws Error naming the variable whose value holds a single quote or a line break.
 */
export function formatLocalEnv(variables: Readonly<Record<string, string>>, comments: readonly string[] = []): string {
  const lines = Object.entries(variables).map(([name, raw]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`local.env: ${JSON.stringify(name)} is not a variable name`);
    const value = name === 'KEYWARD_SIGNING_KEY' && raw.includes('-----BEGIN') ? Buffer.from(raw.replaceAll('\\n', '\n')).toString('base64') : raw;
    if (/['\r\n]/.test(value)) {
      throw new Error(`local.env: the value of ${name} holds a single quote or a line break, which a shell and node --env-file would read differently`);
    }
    return `${name}='${value}'`;
  });
  return `${[...comments.map((comment) => `# ${comment.replace(/[\r\n]+/g, ' ')}`), ...lines].join('\n')}\n`;
}

/** Writes `<dataDir>/local.env`, readable by its owner only. */
export function writeLocalEnv(dataDir: string, variables: Readonly<Record<string, string>>, comments: readonly string[] = []): string {
  const file = localEnvPath(dataDir);
  writeFileSync(file, formatLocalEnv(variables, comments), { mode: 0o600 });
  return file;
}

/** Removes `<dataDir>/local.env` (the instance it described has stopped). */
export function removeLocalEnv(dataDir: string): void {
  rmSync(localEnvPath(dataDir), { force: true });
}

/** Reads `<dataDir>/local.env` with Node's own dotenv parser; `undefined` when there is none. */
export function readLocalEnv(dataDir: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(localEnvPath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseEnv(text) as Record<string, string>;
}
