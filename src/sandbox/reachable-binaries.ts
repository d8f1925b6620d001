import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerUser } from './server-user.js';

/** A PostgreSQL install directory (bin, lib, share) and how to remove it when it is a copy. */
export interface ReachableBinaries {
  readonly dir: string;
  dispose(): void;
}

/**
 * The PostgreSQL install from which `user` can run the servers: `nativeDir` itself when the user can reach it,
 * else a copy in `tempRoot`, removed by dispose() (or at the latest when this process exits).
 *
 * As root the servers run as an unprivileged user, who cannot reach node_modules in a checkout under a
 * private directory (root's 0700 home, `mktemp -d`). A copy works because PostgreSQL is relocatable: it finds
 * share/ from its own executable's path and its libraries through RUNPATH $ORIGIN/../lib. A copy, not
 * symlinks: postgres resolves symlinks to its executable and would look for share/ back in node_modules.
 * A copy is about 60 MB and takes a fraction of a second; it lives only as long as the clusters using it,
 * so there is no shared cache to trust, repair or clean up.
 */
export function reachableBinaries(nativeDir: string, user: ServerUser, tempRoot: string, env: NodeJS.ProcessEnv): ReachableBinaries {
  const inPlace = runsFor(user, nativeDir, env);
  if (inPlace === true) return { dir: nativeDir, dispose: () => undefined };
  const holder = mkdtempSync(join(tempRoot, 'lagless-pg-bin-'));
  const dispose = (): void => {
    process.off('exit', dispose);
    rmSync(holder, { recursive: true, force: true });
  };
  process.once('exit', dispose);
  chmodSync(holder, 0o755);
  // Keep the last name `native`: the package's symlink list is relative to the directory above it.
  const copy = join(holder, 'native');
  copyReadable(nativeDir, copy);
  const copied = runsFor(user, copy, env);
  if (copied === true) return { dir: copy, dispose };
  dispose();
  throw new Error(
    `PostgreSQL must run as the unprivileged user '${user.name}' (it refuses root), who can run neither the binaries in ${nativeDir} (${inPlace}) nor a copy in ${tempRoot} (${copied}): ` +
      `move the checkout to a directory '${user.name}' may enter, or set TMPDIR to a directory it may enter and execute files from.`,
  );
}

/** True when `user` can start `<dir>/bin/postgres` (binary, libraries, path); otherwise why not. */
function runsFor(user: ServerUser, dir: string, env: NodeJS.ProcessEnv): true | string {
  const result = spawnSync(join(dir, 'bin', 'postgres'), ['--version'], { uid: user.uid, gid: user.gid, env: { ...env, LD_LIBRARY_PATH: join(dir, 'lib') }, encoding: 'utf8' });
  if (result.status === 0) return true;
  return (result.error as NodeJS.ErrnoException | undefined)?.code ?? (result.stderr.trim().split('\n')[0] || `exit ${result.status ?? result.signal}`);
}

/**
 * Copy a directory tree so that everyone may read it and run its executables, whatever the umask was when
 * npm unpacked it; symlinks are copied as they are (the library links are relative, so they stay inside).
 */
function copyReadable(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  chmodSync(to, 0o755);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (entry.isDirectory()) copyReadable(source, target);
    else {
      copyFileSync(source, target);
      chmodSync(target, statSync(source).mode & 0o111 ? 0o755 : 0o644);
    }
  }
}
