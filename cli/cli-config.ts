/**
 * The CLI's configuration. Every command talks to a running server over its admin API, so the
 * CLI needs only where the server is and an admin token: `--url` / `KEYWARD_URL` and `--token` /
 * `KEYWARD_TOKEN` (flags win). Neither database credentials nor the server's secrets.
 *
 * One exception: `token create` without an admin token (--token / KEYWARD_TOKEN) writes the token straight into MongoDB
 * (`MONGODB_URL`, `MONGODB_DB`), because the very first admin token cannot be asked for with a
 * token. Values are never echoed: they hold credentials.
 */
import { z } from 'zod';

import { connectionVariables, unsetIfEmpty, type Environment } from '../lib/config/environment.js';
import { ConfigurationError } from '../lib/errors/keyward-error.js';

/** Where to send admin API calls. */
export interface ApiConfig {
  /** e.g. `http://127.0.0.1:8080`, without a trailing slash. */
  readonly url: string;
  readonly token: string;
}

/** Where `token create` writes when no server is named. */
export interface DirectTokenConfig {
  readonly mongoUrl: string;
  readonly mongoDb: string;
}

/** What to do when nothing is configured: the two ways there are. */
export const SETUP_HINT =
  'Set KEYWARD_URL (where the server listens, e.g. http://127.0.0.1:8080 for `npm start`) and KEYWARD_TOKEN (an admin token, kwa_…), ' +
  'or pass --url and --token. No token yet? With `npm start` running, create one with ' +
  '`npm run keyward:local -- token create --name <you> --scope write`.';

const TOKEN_SHAPE = /^kwa_tok_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/;

/** Flags that override the environment. */
export interface ConnectionFlags {
  readonly url?: string;
  readonly token?: string;
}

function checkUrl(url: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(from, 'must be the URL of a Keyward server, e.g. http://127.0.0.1:8080');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigurationError(from, 'must be an http:// or https:// URL');
  if (parsed.username !== '' || parsed.password !== '') throw new ConfigurationError(from, 'must not hold credentials; the admin token goes in --token / KEYWARD_TOKEN');
  return url.replace(/\/+$/, '');
}

/** The server URL, when one is given (flag first, then KEYWARD_URL); null when neither is. */
export function serverUrlOf(env: Environment, flags: ConnectionFlags): string | null {
  if (flags.url !== undefined) return checkUrl(flags.url, '--url');
  const fromEnv = env['KEYWARD_URL'] ?? '';
  return fromEnv === '' ? null : checkUrl(fromEnv, 'KEYWARD_URL');
}

/**
 * Reads and checks the API configuration.
 *
 * @throws ConfigurationError naming what is missing or wrong and how to set it up.
 */
export function parseApiConfig(env: Environment, flags: ConnectionFlags): ApiConfig {
  const url = serverUrlOf(env, flags);
  const token = flags.token ?? (env['KEYWARD_TOKEN'] ?? '');
  const from = flags.token === undefined ? 'KEYWARD_TOKEN' : '--token';
  if (url === null && token === '') throw new ConfigurationError('KEYWARD_URL', `is not set, nor is KEYWARD_TOKEN. ${SETUP_HINT}`);
  if (url === null) throw new ConfigurationError('KEYWARD_URL', `is required but not set. ${SETUP_HINT}`);
  if (token === '') throw new ConfigurationError('KEYWARD_TOKEN', `is required but not set. ${SETUP_HINT}`);
  if (!TOKEN_SHAPE.test(token)) throw new ConfigurationError(from, 'is not an admin token (they read kwa_tok_…_…, as `token create` prints them)');
  return { url, token };
}

const directEnvironment = z.object({ MONGODB_URL: z.preprocess(unsetIfEmpty, connectionVariables.MONGODB_URL.optional()), MONGODB_DB: connectionVariables.MONGODB_DB });

/**
 * The database `token create` writes to when no server is named.
 *
 * @throws ConfigurationError when MONGODB_URL is not set either.
 */
export function parseDirectTokenConfig(env: Environment): DirectTokenConfig {
  const result = directEnvironment.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigurationError(issue?.path.join('.') || 'MONGODB_URL', issue?.message ?? 'is invalid');
  }
  if (result.data.MONGODB_URL === undefined) {
    throw new ConfigurationError(
      'KEYWARD_TOKEN',
      'is not set, and neither is MONGODB_URL. Create further tokens through a server (--url / KEYWARD_URL with --token / KEYWARD_TOKEN); ' +
        'create the very first one in the database with `npm run keyward:local -- token create …` (local) or with MONGODB_URL set to the server\'s database.',
    );
  }
  return { mongoUrl: result.data.MONGODB_URL, mongoDb: result.data.MONGODB_DB };
}
