/**
 * The CLI's configuration: the same environment variables as the server, under the same rules
 * (lib/config/environment.ts), checked once and naming each bad variable (values are never
 * echoed: they hold secrets and credentials). The plan catalogue is read from
 * KEYWARD_PLANS_FILE and checked too.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { connectionVariables, secretVariables, unsetIfEmpty, type Environment } from '../lib/config/environment.js';
import { ConfigurationError } from '../lib/errors/keyward-error.js';
import { loadPlanCatalogue, type PlanCatalogue } from '../lib/plans/plan-catalogue.js';

/** The variables the CLI reads: the server's rules for each (lib/config/environment.ts), with their defaults. */
export const cliEnvironment = z.object({
  MONGODB_URL: connectionVariables.MONGODB_URL,
  /** Database name, as for the server. Default `keyward`. */
  MONGODB_DB: connectionVariables.MONGODB_DB,
  /** Optional here: with it, servers drop cached copies of licenses the CLI changes at once. */
  REDIS_URL: z.preprocess(unsetIfEmpty, connectionVariables.REDIS_URL.optional()),
  KEYWARD_DIGEST_SECRET: secretVariables.KEYWARD_DIGEST_SECRET,
  KEYWARD_ENCRYPTION_KEY: secretVariables.KEYWARD_ENCRYPTION_KEY,
  /** JSON plan catalogue, relative to the working directory. Default `config/plans.json`. */
  KEYWARD_PLANS_FILE: z.preprocess(unsetIfEmpty, z.string().default('config/plans.json')),
});

/** The CLI's configuration, parsed once by its composition root. */
export interface CliConfig {
  readonly mongoUrl: string;
  readonly mongoDb: string;
  /** `null` when REDIS_URL is not set. */
  readonly redisUrl: string | null;
  readonly digestSecret: string;
  readonly encryptionKey: string;
  /** Absolute path of the plan catalogue. */
  readonly plansFile: string;
  readonly plans: PlanCatalogue;
}

/**
 * Reads and checks the configuration.
 *
 * @param env - The variables, usually `process.env`.
 * @param cwd - Directory a relative KEYWARD_PLANS_FILE is resolved against.
 * @throws ConfigurationError naming every bad variable (its `field` is the first of them).
 */
export function parseCliConfig(env: Environment, cwd: string): CliConfig {
  const result = cliEnvironment.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const unset = issue.code === 'invalid_type' && (env[name] ?? '') === '';
      return { name, problem: unset ? 'is required but not set' : issue.message };
    });
    const [first, ...others] = problems;
    // Reads "MONGODB_URL: is required but not set; KEYWARD_DIGEST_SECRET: must be at least 32 bytes".
    const message = [first?.problem ?? 'is invalid', ...others.map(({ name, problem }) => `${name}: ${problem}`)].join('; ');
    throw new ConfigurationError(first?.name ?? 'environment', message);
  }
  const parsed = result.data;
  const plansFile = resolve(cwd, parsed.KEYWARD_PLANS_FILE);
  return {
    mongoUrl: parsed.MONGODB_URL,
    mongoDb: parsed.MONGODB_DB,
    redisUrl: parsed.REDIS_URL ?? null,
    digestSecret: parsed.KEYWARD_DIGEST_SECRET,
    encryptionKey: parsed.KEYWARD_ENCRYPTION_KEY,
    plansFile,
    plans: readPlans(plansFile),
  };
}

function readPlans(path: string): PlanCatalogue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError('KEYWARD_PLANS_FILE', `cannot read ${path}`, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError('KEYWARD_PLANS_FILE', `${path} is not valid JSON`, error);
  }
  try {
    return loadPlanCatalogue(data);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigurationError('KEYWARD_PLANS_FILE', `${path}: ${reason}`, error);
  }
}
