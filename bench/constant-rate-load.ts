/**
 * Latency at a fixed request rate, measured with vegeta (github.com/tsenart/vegeta, installed by
 * scripts/setup.sh with `go install`): an open-loop generator that sends each request at its
 * scheduled time whatever the answers before it did, and reports latencies in nanoseconds.
 *
 * Why not autocannon's `overallRate` (used here before): each of its connections sends as fast as
 * it can until it has made its share for the current second and then waits for the next second,
 * so "half the maximum rate" ran at the maximum rate for half of every second; and it corrects
 * for coordinated omission with an expected interval of `Math.ceil(1 / rate)` = 1 ms, adding
 * made-up samples to every answer slower than 1 ms. autocannon still measures the maximum
 * throughput (closed loop, bench/autocannon-run.ts).
 *
 * vegeta runs with GOMAXPROCS=1, so the generator takes at most one core, as autocannon does,
 * and at a lower CPU priority than the server (generator-priority.ts).
 * It runs as a child process and is awaited without blocking: the server under test is usually
 * in this process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { findGoTool } from '../embedded/find-executable.js';
import { atGeneratorPriority } from './generator-priority.js';

const run = promisify(execFile);

/** Options of one constant-rate run. */
export interface ConstantRateOptions {
  readonly url: string;
  /** The JSON body of every request. */
  readonly body: string;
  /** Bodies sent in turn instead of `body` (many keys: one target line each, vegeta cycles them). */
  readonly bodies?: readonly string[];
  /** Requests per second. */
  readonly rate: number;
  readonly durationSeconds: number;
  /** Most connections (and workers) vegeta may open. Default 50, as in the throughput runs. */
  readonly maxConnections?: number;
}

/** What a run measured; latencies in milliseconds. */
export interface ConstantRateResult {
  /** Rate at which requests were sent. */
  readonly sentPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Share of answers with a 2xx status (1 = all). */
  readonly success: number;
}

/** Sends `rate` requests per second for `durationSeconds` and reports their latencies. */
export async function runConstantRate(options: ConstantRateOptions): Promise<ConstantRateResult> {
  const vegeta = await findGoTool('vegeta', 'VEGETA_BIN');
  if (vegeta === undefined) throw new Error('vegeta not found (set VEGETA_BIN, or run scripts/setup.sh, which installs it with `go install`)');
  const folder = mkdtempSync(join(tmpdir(), 'keyward-vegeta-'));
  try {
    const targets = join(folder, 'targets.json');
    const results = join(folder, 'results.bin');
    const header = { 'Content-Type': ['application/json'] };
    const target = (body: string) => `${JSON.stringify({ method: 'POST', url: options.url, body: Buffer.from(body).toString('base64'), header })}\n`;
    writeFileSync(targets, (options.bodies ?? [options.body]).map(target).join(''));
    const connections = String(options.maxConnections ?? 50);
    const env = { ...process.env, GOMAXPROCS: '1' };
    const attack = ['attack', '-format=json', `-targets=${targets}`, `-rate=${options.rate}/s`, `-duration=${options.durationSeconds}s`];
    const limits = ['-workers=20', `-max-workers=${connections}`, `-max-connections=${connections}`, `-output=${results}`];
    const [command, args] = atGeneratorPriority(vegeta, [...attack, ...limits]);
    await run(command, args, { env });
    const { stdout } = await run(vegeta, ['report', '-type=json', results], { env, maxBuffer: 16 * 1024 * 1024 });
    const report = JSON.parse(stdout) as { rate: number; success: number; latencies: Record<string, number> };
    const ms = (name: string) => Math.round((report.latencies[name] ?? Number.NaN) / 10_000) / 100;
    return { sentPerSecond: report.rate, p50Ms: ms('50th'), p90Ms: ms('90th'), p99Ms: ms('99th'), maxMs: ms('max'), success: report.success };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
