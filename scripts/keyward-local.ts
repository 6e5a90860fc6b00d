/**
 * `npm run keyward:local -- …`: the CLI against the instance `npm start` runs on the data
 * directory KEYWARD_DATA_DIR (default `./.keyward`), through the `local.env` that instance wrote
 * there. Says on stderr which instance it talks to; without a local.env, says how to start one.
 * The file's variables win over the environment's: this command means "the local instance".
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { DATA_DIR_LOCK_FILE } from '../embedded/data-dir-lock.js';
import { runCli } from '../cli/main.js';
import { localEnvPath, readLocalEnv } from './local-env.js';

/** Whether the process that holds the data directory's lock is running, and its pid. */
function lockHolder(dataDir: string): { pid: number; alive: boolean } | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(join(dataDir, DATA_DIR_LOCK_FILE), 'utf8')) as { pid?: unknown };
    if (typeof pid !== 'number') return undefined;
    try {
      process.kill(pid, 0);
      return { pid, alive: true };
    } catch (error) {
      return { pid, alive: (error as NodeJS.ErrnoException).code === 'EPERM' };
    }
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const setting = process.env['KEYWARD_DATA_DIR'];
  const dataDir = resolve(process.cwd(), setting === undefined || setting === '' ? '.keyward' : setting);
  const local = readLocalEnv(dataDir);
  if (local === undefined) {
    process.stderr.write(
      `keyward:local: no Keyward is running on ${dataDir} (no ${localEnvPath(dataDir)}); start one with \`npm start\`` +
        `${setting === undefined ? '' : ` (with the same KEYWARD_DATA_DIR)`}, or use \`npm run keyward -- …\` with REDIS_URL, MONGODB_URL and the secrets set\n`,
    );
    return 2;
  }
  const holder = lockHolder(dataDir);
  const who = holder === undefined ? 'its process is unknown' : holder.alive ? `process ${holder.pid}` : `process ${holder.pid}, which is no longer running`;
  process.stderr.write(`keyward:local: talking to the Keyward on ${dataDir} (${local['KEYWARD_URL'] ?? 'server URL unknown'}, ${who})\n`);
  return runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: { ...process.env, ...local }, cwd: process.cwd() });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`keyward:local: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
