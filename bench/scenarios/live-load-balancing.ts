import pg from 'pg';
import { createLagless, type JobContext } from '../../dist/index.js';
import { startPostgresCluster, type PostgresCluster } from '../../dist/sandbox/postgres-cluster.js';
import type { BenchContext } from '../context.js';
import { percentile, sleep, within } from '../measure.js';
import { atMost, type Check, type Scenario } from '../results.js';
import { QUEUE } from '../systems/lagless.js';

/** Issue 12's rates: jobs per second, each enqueued right after the write that caused it. */
const RATES = [200, 1_000, 5_000];
/** The default `caughtUpCheckIntervalMs`; 0 stands for no rate bound (one refresh per batch of askers, as before). */
const INTERVAL_MS = 10;
const CONCURRENCY = 50;
const TICK_MS = 10;

interface LiveRun {
  rate: number;
  intervalMs: number;
  jobs: number;
  seconds: number;
  /** Status queries the replica itself counted (pg_stat_statements): caught-up refreshes, connection proofs, health checks. */
  statusQueries: number;
  /** Every statement the replica counted, the jobs' own reads included. */
  allQueries: number;
  p50Ms: number;
  p99Ms: number;
  onReplica: number;
}

export const liveLoadBalancingScenario: Scenario = {
  name: 'live-load-balancing',
  title: 'load balancing, live: write → enqueue → run at 200, 1,000 and 5,000 jobs/s',
  run: async (ctx) => ({ rows: [], checks: await liveLoadBalancingChecks(ctx) }),
};

/**
 * Scenario (issue 12): live traffic against a real primary and streaming replica. Every 10 ms a "request" writes
 * rows on the primary and enqueues one sticky job per row, stamped after the write; each job reads its row. The
 * replica counts what it is asked with pg_stat_statements (shared_preload_libraries on the bench's cluster), so the
 * caught-up cost is measured on the server, not with lagless's own counter. Each rate runs with the default rate
 * bound and without one, for the start-latency comparison.
 */
async function liveLoadBalancingChecks(ctx: BenchContext): Promise<Check[]> {
  const cluster = await startPostgresCluster({ replicas: 1, extraConfig: "shared_preload_libraries = 'pg_stat_statements'" });
  const admin = new pg.Pool({ connectionString: cluster.primaryUrl, max: 2 });
  try {
    await admin.query('create extension if not exists pg_stat_statements');
    await admin.query('create table items (id bigint primary key, version int not null)');
    const seconds = ctx.config.quick ? 1.5 : 4;
    const runs: LiveRun[] = [];
    let nextId = 1;
    for (const rate of RATES) {
      for (const intervalMs of [0, INTERVAL_MS]) {
        const run = await liveRun(ctx, cluster, { rate, intervalMs, seconds, firstId: nextId });
        nextId += run.jobs + 1;
        runs.push(run);
        console.error(
          `  live load balancing: ${rate} jobs/s, caughtUpCheckIntervalMs ${intervalMs}: ${run.jobs} jobs in ${run.seconds.toFixed(1)} s, replica status queries ${run.statusQueries} (${(run.statusQueries / run.jobs).toFixed(4)}/job, ${(run.statusQueries / run.seconds).toFixed(0)}/s), all replica statements ${run.allQueries}, start latency p50 ${run.p50Ms.toFixed(1)} ms p99 ${run.p99Ms.toFixed(1)} ms, on replica ${((100 * run.onReplica) / run.jobs).toFixed(0)} %`,
        );
      }
    }
    return RATES.flatMap((rate) => {
      const bounded = runs.find((r) => r.rate === rate && r.intervalMs === INTERVAL_MS)!;
      const unbounded = runs.find((r) => r.rate === rate && r.intervalMs === 0)!;
      const perJob = bounded.statusQueries / bounded.jobs;
      return [
        {
          id: `lb.live-queries-per-job.${rate}`,
          label: `live write → enqueue → run at ${rate} jobs/s: replica status queries per job (pg_stat_statements)`,
          unit: 'queries',
          subject: { label: `interval ${INTERVAL_MS} ms`, value: perJob },
          reference: { label: 'one per job', value: 1 },
          // Issue 12: ≤ 0.05 per job at ≥ 2,000 jobs/s; below that the rate bound (next row) is the promise.
          target: atMost(rate >= 2_000 ? 0.05 : 1),
        },
        {
          id: `lb.live-query-rate.${rate}`,
          label: `live at ${rate} jobs/s: replica status queries per second vs the configured bound (1 per ${INTERVAL_MS} ms, + ~5/s health checks)`,
          unit: 'queries/s',
          subject: { label: 'measured', value: bounded.statusQueries / bounded.seconds },
          reference: { label: 'bound', value: 1000 / INTERVAL_MS + 5 },
          target: atMost(1),
        },
        {
          id: `lb.live-start-p99.${rate}`,
          label: `live at ${rate} jobs/s: start latency p99 (ms), rate-bounded vs unbounded caught-up checks`,
          unit: 'ms',
          subject: { label: `interval ${INTERVAL_MS} ms`, value: bounded.p99Ms },
          reference: { label: 'no bound', value: unbounded.p99Ms },
          target: atMost(2),
        },
      ];
    });
  } finally {
    await admin.end();
    await cluster.stop();
  }
}

async function replicaCounts(replica: pg.Pool): Promise<{ status: number; all: number }> {
  const { rows } = await replica.query<{ status: string; all: string }>(
    `select coalesce(sum(calls) filter (where query like 'select pg_last_wal_replay_lsn()%'), 0)::text as status,
            coalesce(sum(calls) filter (where query not like '%pg_stat_statements%'), 0)::text as all
       from pg_stat_statements`,
  );
  return { status: Number(rows[0]!.status), all: Number(rows[0]!.all) };
}

async function liveRun(ctx: BenchContext, cluster: PostgresCluster, options: { rate: number; intervalMs: number; seconds: number; firstId: number }): Promise<LiveRun> {
  const app = createLagless({
    redis: { url: ctx.url, prefix: ctx.prefix(`live-${options.rate}-${options.intervalMs}`) },
    logger: false,
    databases: { main: { primary: cluster.primaryUrl, replicas: cluster.replicaUrls, caughtUpCheckIntervalMs: options.intervalMs } },
  });
  const replica = new pg.Pool({ connectionString: cluster.replicaUrls[0], max: 1 });
  const latenciesMs: number[] = [];
  let onReplica = 0;
  const W = app.defineWorker({
    name: 'LiveReadWorker',
    queue: QUEUE,
    dataConsistency: 'sticky',
    perform: async (args: { first: number; n: number; at: number }, job: JobContext) => {
      latenciesMs.push(Date.now() - args.at);
      await job.db('main').query('select version from items where id = $1', [args.first + args.n]);
      if (job.job.load_balancing_strategy === 'replica') onReplica++;
    },
  });
  const worker = app.worker({ queues: [QUEUE], concurrency: CONCURRENCY });
  await worker.start();
  const db = app.db('main');
  await db.query('select 1', [], { primary: true });
  const before = await replicaCounts(replica);
  const started = performance.now();
  let produced = 0;
  let id = options.firstId;
  // Paced by elapsed time: each tick writes the rows due since the last one and enqueues their jobs.
  while (performance.now() - started < options.seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * options.rate) - produced;
    if (due > 0) {
      const first = id;
      id += due;
      await app.databases!.sessions.run(async () => {
        await db.query('insert into items select g, 1 from generate_series($1::bigint, $2::bigint) g', [first, first + due - 1]);
        const at = Date.now();
        await W.enqueueMany(Array.from({ length: due }, (_, n) => ({ first, n, at })));
      });
      produced += due;
    }
    await sleep(TICK_MS);
  }
  await within(
    (async () => {
      while (latenciesMs.length < produced) await sleep(5);
    })(),
    60_000,
    'live load-balanced jobs',
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await replicaCounts(replica);
  await worker.stop();
  await replica.end();
  await app.close();
  const sorted = latenciesMs.sort((a, b) => a - b);
  return {
    rate: options.rate,
    intervalMs: options.intervalMs,
    jobs: produced,
    seconds,
    statusQueries: after.status - before.status,
    allQueries: after.all - before.all - 1,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    onReplica,
  };
}
