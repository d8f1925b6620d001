import pg from 'pg';
import { parseLsn } from '../../src/db/lsn.js';
import type { JobContext, LaglessApp } from '../../src/index.js';
import { waitForReplay } from '../../src/sandbox/wait-for-replay.js';
import { waitFor } from '../helpers/log-capture.js';
import { READ_SQL, type LbEnv, type ReadRecord } from './lb-env.js';

/**
 * The crash-with-a-backlog scenario of issue 12, shared by the restart tests. A standby reopens for reads at its
 * consistency point, which stays far back as long as its dirty pages were never flushed: the cluster for these
 * tests gets shared buffers larger than the WAL written here, and the filler table is emptied before each round.
 */
export const BACKLOG_CLUSTER = { extraConfig: 'shared_buffers = 384MB', keepBaseCopy: true } as const;

export const BACKLOG_SCHEMA = [
  'create table items (id int primary key, version int not null)',
  'create table filler (pad text)',
  // Stored inline, so each row is ~2 kB of heap WAL: 100 MB in one statement.
  'alter table filler alter column pad set storage plain',
];

export interface BacklogRun {
  records: ReadRecord[];
  /** WAL bytes written between the round's start and its marker. */
  walBytes: number;
  /** The restarted replica's replay position right after it reopened, and the marker it must reach. */
  reopenedAt: string;
  marker: string;
  /** Did the reopened replica show rows older than the marker (the stale window the jobs must not see)? */
  reopenedBehind: boolean;
}

const query = async <R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
};

/**
 * ≥ 100 MB of WAL, then `perWorker` new rows and as many sticky and delayed jobs stamped after them, all replayed
 * by the replica and proven by lagless's cache; then `fault()` (crash and restart, replacement, ...) and workers.
 */
export async function runBacklogRound(
  env: LbEnv,
  target: { app: LaglessApp; queue: string },
  options: { firstId: number; perWorker: number; fault: () => Promise<void>; concurrency?: number },
): Promise<BacklogRun> {
  const { app, queue } = target;
  const primaryUrl = env.cluster.primaryUrl;
  const replicaUrl = env.cluster.replicaUrls[0]!;
  const records: ReadRecord[] = [];
  const perform = (worker: string) => async (args: { id: number }, ctx: JobContext) => {
    const { rows } = await ctx.db('main').query<{ version: number | null; on_replica: boolean }>(READ_SQL, [args.id]);
    records.push({ jid: ctx.jid, worker, expected: 1, seen: rows[0]!.version, onReplica: rows[0]!.on_replica, strategy: ctx.job.load_balancing_strategy });
  };
  const Sticky = app.defineWorker({ name: `BacklogSticky${options.firstId}`, queue, dataConsistency: 'sticky', perform: perform('sticky') });
  const Delayed = app.defineWorker({ name: `BacklogDelayed${options.firstId}`, queue, dataConsistency: 'delayed', perform: perform('delayed') });

  await query(primaryUrl, 'truncate filler');
  const [start] = await query<{ lsn: string }>(primaryUrl, 'select pg_current_wal_insert_lsn()::text as lsn');
  await query(primaryUrl, "insert into filler select repeat('x', 1900) from generate_series(1, 55000)");
  const ids = Array.from({ length: options.perWorker }, (_, i) => options.firstId + i);
  await query(primaryUrl, 'insert into items select g, 1 from unnest($1::int[]) g', [ids]);
  const [marker] = await query<{ lsn: string; bytes: string }>(primaryUrl, 'select pg_current_wal_insert_lsn()::text as lsn, pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text as bytes', [start!.lsn]);

  // Jobs stamped after the marker (one stamp per enqueueMany), replayed by the replica, proven by the cache.
  await Sticky.enqueueMany(ids.map((id) => ({ id })));
  await Delayed.enqueueMany(ids.map((id) => ({ id })));
  const [stamped] = await query<{ lsn: string }>(primaryUrl, 'select pg_current_wal_insert_lsn()::text as lsn');
  await waitForReplay(replicaUrl, stamped!.lsn, { timeoutMs: 30_000 });
  const host = app.databases!.balancer('main').replicas[0]!;
  await host.refreshReplayLsn();
  if (host.cachedVerdict(parseLsn(stamped!.lsn)) === undefined) throw new Error('the replica cache does not prove the jobs before the fault');

  await options.fault();
  const [reopened] = await query<{ lsn: string; behind: boolean }>(replicaUrl, 'select pg_last_wal_replay_lsn()::text as lsn, pg_last_wal_replay_lsn() < $1::pg_lsn as behind', [marker!.lsn]);

  const worker = app.worker({ queues: [queue], concurrency: options.concurrency ?? 50, maintenanceIntervalMs: 50 });
  await worker.start();
  await waitFor(() => records.length === 2 * options.perWorker, 60_000, `${2 * options.perWorker} backlog jobs`);
  await worker.stop();
  return { records, walBytes: Number(marker!.bytes), reopenedAt: reopened!.lsn, marker: marker!.lsn, reopenedBehind: reopened!.behind };
}

/** After a round: a new write and a sticky job for it; resolves with where the job ran once the replica has replayed it. */
export async function followUpRunsOnReplica(env: LbEnv, target: { app: LaglessApp; queue: string }, id: number): Promise<string | undefined> {
  const { app, queue } = target;
  let strategy: string | undefined;
  let onReplica = false;
  const W = app.defineWorker({
    name: `FollowUp${id}`,
    queue,
    dataConsistency: 'sticky',
    perform: async (_args: object, ctx: JobContext) => {
      const { rows } = await ctx.db('main').query<{ version: number | null; on_replica: boolean }>(READ_SQL, [id]);
      if (rows[0]!.version !== 1) throw new Error(`follow-up job read ${rows[0]!.version} for row ${id}`);
      onReplica = rows[0]!.on_replica;
      strategy = ctx.job.load_balancing_strategy;
    },
  });
  await app.db('main').query('insert into items values ($1, 1)', [id]);
  await W.enqueue({});
  const [now] = await query<{ lsn: string }>(env.cluster.primaryUrl, 'select pg_current_wal_insert_lsn()::text as lsn');
  await waitForReplay(env.cluster.replicaUrls[0]!, now!.lsn, { timeoutMs: 30_000 });
  const worker = app.worker({ queues: [queue], concurrency: 1 });
  await worker.start();
  await waitFor(() => strategy !== undefined, 10_000, 'follow-up job');
  await worker.stop();
  return onReplica ? strategy : `${strategy} (not on the replica)`;
}
