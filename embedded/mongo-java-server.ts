import { access, mkdir, stat } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { StartupError } from '../runtime/startup-error.js';
import { findExecutable } from './find-executable.js';
import { describeProcessEnd, spawnSupervised, type ProcessEnd } from './supervised-process.js';

/** Options for {@link startMongoJavaServer}. */
export interface MongoJavaServerOptions {
  /**
   * H2 database file the data is kept in, so it survives a restart. Its directory is created
   * when missing. Default: none, the data lives in memory and is gone on stop.
   */
  readonly h2File?: string;
  /** TCP port on 127.0.0.1; 0 lets the server pick a free one. Default: 0. */
  readonly port?: number;
  /** How long to wait for the JVM to report `READY` (not counting a first-run build). Default: 60 000 ms. */
  readonly startTimeoutMs?: number;
  /** Receives progress worth telling a person, such as "building the launcher". Default: writes to stderr. */
  readonly onNotice?: (message: string) => void;
}

/** A running mongo-java-server. */
export interface MongoJavaServer {
  /** MongoDB driver URL, `mongodb://127.0.0.1:<port>/?directConnection=true`. */
  readonly url: string;
  /** The TCP port it listens on. */
  readonly port: number;
  /** Closes the launcher's stdin (it then commits H2 and exits) and waits for the JVM to exit. */
  stop(): Promise<void>;
}

/** The Maven project of the launcher, found from this file so the caller's cwd does not matter. */
const launcherProject = fileURLToPath(new URL('../tools/mongo-wire/', import.meta.url));
const launcherJar = join(launcherProject, 'target', 'mongo-wire-1.0.0.jar');
const launcherLibs = join(launcherProject, 'target', 'lib');
const launcherClass = 'dev.keyward.mongowire.Launcher';
const launcherSource = join(launcherProject, 'src', 'main', 'java', 'dev', 'keyward', 'mongowire', 'Launcher.java');

/** One build per process, shared by concurrent starts. */
let launcherBuild: Promise<void> | undefined;

/**
 * Starts mongo-java-server (an in-process MongoDB-wire implementation, see `tools/mongo-wire`)
 * in a JVM bound to this process, building the launcher with Maven first if its jar is missing.
 *
 * @param options - Storage, port and timeouts; see {@link MongoJavaServerOptions}.
 * @throws Error when Java or Maven is missing, the build fails, or the server does not come up.
 */
export async function startMongoJavaServer(options: MongoJavaServerOptions = {}): Promise<MongoJavaServer> {
  const port = options.port ?? 0;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const onNotice = options.onNotice ?? ((message: string) => process.stderr.write(`${message}\n`));

  const java = await findExecutable('java');
  if (java === undefined) {
    throw new Error(
      'java was not found on PATH; the embedded MongoDB-wire server needs Java 17 or later. ' +
        'Install it with `apt-get install openjdk-17-jre-headless`, or set MONGODB_URL to an existing MongoDB.',
    );
  }
  launcherBuild ??= buildLauncherIfMissing(onNotice).catch((error: unknown) => {
    launcherBuild = undefined;
    throw error;
  });
  await launcherBuild;
  if (options.h2File !== undefined) await mkdir(dirname(options.h2File), { recursive: true });

  let lockedFile: string | undefined;
  let announce: (port: number) => void = () => undefined;
  const announced = new Promise<number>((resolve) => (announce = resolve));
  const child = await spawnSupervised({
    executable: java,
    // Java expands the `lib/*` wildcard itself; no shell is involved.
    args: [
      '-cp', [launcherJar, join(launcherLibs, '*')].join(delimiter),
      launcherClass,
      String(port),
      ...(options.h2File === undefined ? [] : [options.h2File]),
    ],
    stopBy: 'close-stdin',
    onLine: (line) => {
      const ready = /^READY (\d+)$/.exec(line);
      if (ready?.[1] !== undefined) announce(Number(ready[1]));
      const locked = /^LOCKED (.+)$/.exec(line);
      if (locked?.[1] !== undefined) lockedFile = locked[1];
    },
  });

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    announced.then((boundPort) => ({ kind: 'ready', port: boundPort }) as const),
    child.ended.then((end) => ({ kind: 'ended', end }) as const),
    new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), startTimeoutMs);
    }),
  ]);
  clearTimeout(timer);

  if (outcome.kind === 'ended' && lockedFile !== undefined) {
    throw new StartupError(
      'KEYWARD_DATA_DIR',
      `the MongoDB-wire data file ${lockedFile} is in use by another process (another Keyward on this data directory?); stop it, or set KEYWARD_DATA_DIR to another directory`,
    );
  }
  if (outcome.kind === 'ended') {
    throw new Error(`mongo-java-server ${describeProcessEnd(outcome.end)} before it was ready:\n${child.recentOutput()}`);
  }
  if (outcome.kind === 'timeout') {
    await child.stop();
    throw new Error(`mongo-java-server did not report READY within ${startTimeoutMs} ms:\n${child.recentOutput()}`);
  }
  return {
    url: `mongodb://127.0.0.1:${outcome.port}/?directConnection=true`,
    port: outcome.port,
    async stop() {
      const end = await child.stop();
      if (!endedCleanly(end)) {
        throw new Error(`mongo-java-server ${describeProcessEnd(end)} while stopping:\n${child.recentOutput()}`);
      }
    },
  };
}

/**
 * Exit 0 is the stdin-EOF path. 130 and 143 are how the JVM exits after running its shutdown
 * hooks (which commit H2) on SIGINT / SIGTERM: a terminal Ctrl-C when the launcher shares our
 * process group, or the parent-death signal.
 */
function endedCleanly(end: ProcessEnd): boolean {
  return end.kind === 'exited' && (end.code === 0 || end.code === 130 || end.code === 143);
}

async function buildLauncherIfMissing(onNotice: (message: string) => void): Promise<void> {
  if ((await exists(launcherJar)) && (await exists(launcherLibs)) && !(await isNewer(launcherSource, launcherJar))) return;
  const mvn = await findExecutable('mvn');
  if (mvn === undefined) {
    throw new Error(
      `${launcherJar} is missing and Maven (mvn) was not found on PATH to build it. ` +
        'Install it with `apt-get install maven`, or run `bash scripts/setup.sh`.',
    );
  }
  onNotice(`Building the MongoDB-wire launcher with Maven (${launcherProject}); this happens once.`);
  const build = await spawnSupervised({
    executable: mvn,
    args: ['-q', '-B', '-f', join(launcherProject, 'pom.xml'), 'package', '-DskipTests'],
    keepOutputLines: 80,
  });
  const end = await build.ended;
  if (end.kind !== 'exited' || end.code !== 0) {
    throw new Error(`Maven build of ${launcherProject} ${describeProcessEnd(end)}:\n${build.recentOutput()}`);
  }
}

/** Whether `path` was modified after `than` (a jar older than its source is rebuilt). */
async function isNewer(path: string, than: string): Promise<boolean> {
  try {
    const [source, built] = await Promise.all([stat(path), stat(than)]);
    return source.mtimeMs > built.mtimeMs;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
