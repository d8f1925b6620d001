import { spawnSync } from 'node:child_process';

/** The unprivileged user the PostgreSQL processes run as when we are root (PostgreSQL refuses root). */
export interface ServerUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

/** Look the user up, creating it as a system user when it does not exist yet. */
export function unprivilegedUser(name: string): ServerUser {
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

/**
 * Whether `user` may enter `dir`, asked of the kernel by a shell running as that user rather than worked out
 * from mode bits, so ACLs, group membership and every parent directory count. The shell gets the same uid and
 * gid (and, like every child Node starts with a uid, no supplementary groups) as the servers will.
 */
export function userCanEnter(user: ServerUser, dir: string): boolean {
  const probe = spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return probe.status === 0;
}
