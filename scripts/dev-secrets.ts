/**
 * Secrets for running Keyward locally with no configuration: made once, kept in the data
 * directory (mode 0600), and used only for variables the environment does not set. A
 * production deployment sets all three variables; the server itself never invents secrets.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { generateTokenKeyPair } from '../lib/tokens/validation-token.js';

/** The secret variables the server requires. */
export type SecretVariables = Record<'KEYWARD_DIGEST_SECRET' | 'KEYWARD_ENCRYPTION_KEY' | 'KEYWARD_SIGNING_KEY', string>;

/**
 * Reads `<dataDir>/dev-secrets.json`, creating it with fresh secrets on first use.
 *
 * @returns the secrets, and whether they were just created.
 */
export function loadDevSecrets(dataDir: string): { secrets: SecretVariables; created: boolean; file: string } {
  const file = join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return { secrets: JSON.parse(readFileSync(file, 'utf8')) as SecretVariables, created: false, file };
  mkdirSync(dataDir, { recursive: true });
  const secrets: SecretVariables = {
    KEYWARD_DIGEST_SECRET: randomBytes(32).toString('hex'),
    KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    KEYWARD_SIGNING_KEY: generateTokenKeyPair().privateKey,
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return { secrets, created: true, file };
}
