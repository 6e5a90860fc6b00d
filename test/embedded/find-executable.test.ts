/** Finding the Go tools scripts/setup.sh installs: override variable, then PATH, then $GOPATH/bin. */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findGoTool } from '../../embedded/find-executable.js';

async function executable(path: string): Promise<string> {
  await writeFile(path, '#!/bin/sh\n');
  await chmod(path, 0o755);
  return path;
}

describe('findGoTool', () => {
  let folder: string;
  const saved = { GOPATH: process.env.GOPATH, KEYWARD_TEST_TOOL_BIN: process.env['KEYWARD_TEST_TOOL_BIN'] };

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'keyward-go-tool-'));
    await mkdir(join(folder, 'gopath', 'bin'), { recursive: true });
    process.env.GOPATH = join(folder, 'gopath');
    delete process.env['KEYWARD_TEST_TOOL_BIN'];
  });
  afterEach(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(folder, { recursive: true, force: true });
  });

  it('finds the tool in $GOPATH/bin when it is not on PATH', async () => {
    const installed = await executable(join(folder, 'gopath', 'bin', 'keyward-test-tool'));
    expect(await findGoTool('keyward-test-tool', 'KEYWARD_TEST_TOOL_BIN')).toBe(installed);
  });

  it('prefers the path named by the override variable', async () => {
    await executable(join(folder, 'gopath', 'bin', 'keyward-test-tool'));
    const chosen = await executable(join(folder, 'chosen-tool'));
    process.env['KEYWARD_TEST_TOOL_BIN'] = chosen;
    expect(await findGoTool('keyward-test-tool', 'KEYWARD_TEST_TOOL_BIN')).toBe(chosen);
  });

  it('finds nothing when the tool is nowhere', async () => {
    expect(await findGoTool('keyward-test-tool', 'KEYWARD_TEST_TOOL_BIN')).toBeUndefined();
  });
});
