import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * Finds an executable the way a shell would: an absolute path is checked as is, a bare name is
 * looked up in each directory of `PATH`.
 *
 * Looking before spawning lets callers turn "not installed" into an actionable message (which
 * package to install) instead of a bare `ENOENT` from `spawn`.
 *
 * @param name - A bare command name (`redis-server`) or an absolute path.
 * @param searchPath - The `PATH` to search. Default: `process.env.PATH`.
 * @returns The absolute path of the executable, or `undefined` when there is none.
 */
export async function findExecutable(
  name: string,
  searchPath: string = process.env.PATH ?? '',
): Promise<string | undefined> {
  const candidates = isAbsolute(name)
    ? [name]
    : searchPath
        .split(delimiter)
        .filter((directory) => directory !== '')
        .map((directory) => join(directory, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here (or not executable): keep looking.
    }
  }
  return undefined;
}

/**
 * Finds a tool installed with `go install` (scripts/setup.sh): the path in the environment
 * variable `override` when set, else `name` on `PATH`, else `$GOPATH/bin` (default `~/go/bin`),
 * where `go install` puts it even when that folder is not on `PATH`.
 *
 * @returns The absolute path of the executable, or `undefined` when there is none.
 */
export async function findGoTool(name: string, override: string): Promise<string | undefined> {
  const candidates = [process.env[override], name, join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin', name)];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '') continue;
    const found = await findExecutable(candidate);
    if (found) return found;
  }
  return undefined;
}
