/**
 * Builds the publishable `keyward` library package: the pure core (`keyward`), the service
 * (`keyward/service`) and the client SDK (`keyward/client`), and nothing of the server stack.
 *
 * Why a build step rather than workspaces: lib/ stays where it is (the server, worker and CLI
 * import it by path), and the package is derived from what its entry points really import:
 *   compile lib/ (no source maps: the sources are not shipped) → walk the imports of the
 *   entries' .js and .d.ts files → copy only the files reached → the packages reached become
 *   `dependencies` (versions from the root package.json), except `mongodb` and `ioredis`,
 *   which become optional peer dependencies: an app brings its own driver (one copy, its
 *   major), and an app that embeds only the core installs neither.
 *
 * Usage: `npm run package:library` → dist/library/package/ and dist/library/keyward-<version>.tgz.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/library');
const buildDir = path.join(outDir, 'build');
const packageDir = path.join(outDir, 'package');

/** The entry points: subpath → file (without extension) under lib/. */
export const LIBRARY_ENTRIES = { '.': 'index', './service': 'service/index', './client': 'client/index' } as const;

/** Drivers the app brings: optional peers, so embedding the core never installs them. */
const PEER_PACKAGES = new Set(['mongodb', 'ioredis']);

const IMPORT_PATTERN = /(?:^|[\s;])(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The package name of a bare specifier (`@scope/name/sub` → `@scope/name`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** Files reached from the entries (relative to the build dir) and the packages they import. */
export function reachableFiles(build: string, entries: readonly string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = entries.flatMap((entry) => [`${entry}.js`, `${entry}.d.ts`]);
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    const absolute = path.join(build, file);
    if (!existsSync(absolute)) throw new Error(`package-library: ${file} is imported but was not built`);
    files.add(file);
    for (const match of readFileSync(absolute, 'utf8').matchAll(IMPORT_PATTERN)) {
      const specifier = (match[1] ?? match[2]) as string;
      if (specifier.startsWith('.')) {
        const target = path.normalize(path.join(path.dirname(file), specifier));
        // A .d.ts imports `./x.js` and means `./x.d.ts`; a .js file means itself.
        queue.push(file.endsWith('.d.ts') ? target.replace(/\.js$/, '.d.ts') : target);
        if (file.endsWith('.d.ts')) queue.push(target); // the runtime file beside its types
      } else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        packages.add(packageOf(specifier));
      }
    }
  }
  return { files, packages };
}

interface RootManifest {
  version: string;
  license: string;
  description: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
}

/** The package.json of the library package. */
export function libraryManifest(rootManifest: RootManifest, packages: ReadonlySet<string>): Record<string, unknown> {
  const dependencies: Record<string, string> = {};
  const peerDependencies: Record<string, string> = {};
  for (const name of [...packages].sort()) {
    const range = rootManifest.dependencies[name];
    if (range === undefined) throw new Error(`package-library: lib/ imports ${name}, which is not a dependency of the root package`);
    if (PEER_PACKAGES.has(name)) peerDependencies[name] = name === 'mongodb' ? '>=6.0.0 <8' : range;
    else dependencies[name] = range;
  }
  const exports: Record<string, unknown> = {};
  for (const [subpath, entry] of Object.entries(LIBRARY_ENTRIES)) {
    // One ES module for both conditions: Node 20.19+ loads it with require() (require(esm)).
    const types = `./dist/${entry}.d.ts`;
    const code = `./dist/${entry}.js`;
    exports[subpath] = { import: { types, default: code }, require: { types, default: code } };
  }
  exports['./package.json'] = './package.json';
  return {
    name: 'keyward',
    version: rootManifest.version,
    description: 'License keys for embedding: key format, plans, lifecycle, validation decision and signed tokens (keyward), the license service on MongoDB (keyward/service), and the client SDK (keyward/client).',
    type: 'module',
    license: rootManifest.license,
    engines: rootManifest.engines,
    sideEffects: false,
    exports,
    files: ['dist', 'README.md'],
    dependencies,
    peerDependencies,
    peerDependenciesMeta: Object.fromEntries(Object.keys(peerDependencies).map((name) => [name, { optional: true }])),
  };
}

function main(): void {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.library.json')], { stdio: 'inherit' });
  const { files, packages } = reachableFiles(buildDir, Object.values(LIBRARY_ENTRIES));
  for (const file of files) {
    const target = path.join(packageDir, 'dist', file);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(path.join(buildDir, file), target);
  }
  const rootManifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as RootManifest;
  writeFileSync(path.join(packageDir, 'package.json'), `${JSON.stringify(libraryManifest(rootManifest, packages), null, 2)}\n`);
  copyFileSync(path.join(root, 'docs/library.md'), path.join(packageDir, 'README.md'));
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: packageDir, encoding: 'utf8' }).trim().split('\n').at(-1);
  console.log(`${files.size} files, dependencies: ${[...packages].sort().join(', ')}`);
  console.log(path.join(outDir, packed ?? ''));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
