#!/usr/bin/env node
// The `keyward` command: runs the built CLI (dist/cli/main.js), or says how to build it.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);

if (existsSync(entry)) {
  const { runCli } = await import(entry.href);
  process.exitCode = await runCli(process.argv.slice(2));
} else {
  process.stderr.write('keyward: the CLI is not built yet; run `npm run build` first.\n');
  process.exitCode = 2;
}
