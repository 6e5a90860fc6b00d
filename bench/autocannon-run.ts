/**
 * Load from a second process: autocannon runs in a child, so the server under test keeps its
 * core and the load generator has the other one (2-core machine), at a lower CPU priority than
 * the server (generator-priority.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { atGeneratorPriority } from './generator-priority.js';

const run = promisify(execFile);
const generator = fileURLToPath(new URL('./load-generator.ts', import.meta.url));

/** Options of one load run. */
export interface LoadOptions {
  readonly url: string;
  /** JSON bodies, used in turn. */
  readonly bodies: readonly string[];
  /** Default 50. */
  readonly connections?: number;
  /** Default 10. */
  readonly durationSeconds?: number;
  /** Requests per second over all connections; absent = as fast as possible. */
  readonly overallRate?: number;
}

/** What a run measured. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

/** Runs autocannon in a child process against a POST route. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const folder = mkdtempSync(join(tmpdir(), 'keyward-load-'));
  try {
    const file = join(folder, 'options.json');
    writeFileSync(file, JSON.stringify({ connections: 50, durationSeconds: 10, ...options }));
    const [command, args] = atGeneratorPriority(process.execPath, ['--import', 'tsx', generator, file]);
    const { stdout } = await run(command, args, { maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(stdout) as LoadResult;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
