import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
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
