import { createLagless, PartitionedStore, type JobContext } from '../../dist/index.js';
import { startPostgresCluster, type PostgresCluster } from '../../dist/sandbox/postgres-cluster.js';
import { interleaved } from '../compare.js';
import type { BenchContext } from '../context.js';
import { countdown, sleep, timed, within, type Timed } from '../measure.js';
import { atLeast, atMost, type Check, type Scenario, throughput } from '../results.js';
import { argBatches } from '../systems/args.js';
import { QUEUE } from '../systems/lagless.js';

/** Issue 4 asks for 20,000 jobs; --quick runs a tenth. */
const JOBS = 20_000;
const CONCURRENCY = 10;
const TIMEOUT_MS = 120_000;

type Consistency = 'sticky' | 'always';

interface RunStats {
  /** Replica status queries (caught-up refreshes and health checks) sent while the jobs were processed. */
  statusQueries: number;
  jobs: number;
  strategies: Map<string, number>;
}

export const loadBalancingScenario: Scenario = {
  name: 'load-balancing',
  title: 'load balancing: sticky vs always against a primary + replica',
  run: async (ctx) => ({ rows: [], checks: await loadBalancingChecks(ctx) }),
};

/**
 * Scenario (issue 4): pre-filled jobs that each do one read through `ctx.db('main')`, against a real primary
 * and streaming replica (no lag). `sticky` reads from the replica after a caught-up check answered from the
 * cached replay LSN; `always` reads from the primary with no check. Reports replica status round trips per
 * sticky job (everything the replica was asked while the jobs ran, health checks included) and sticky
 * throughput relative to always.
 */
async function loadBalancingChecks(ctx: BenchContext): Promise<Check[]> {
  const cluster = await startPostgresCluster({ replicas: 1 });
  try {
    const stats: RunStats[] = [];
    const count = ctx.config.quick ? JOBS / 10 : JOBS;
    const median = await interleaved(ctx, { sticky: (n) => run(ctx, cluster, n, 'sticky', stats), always: (n) => run(ctx, cluster, n, 'always', []) }, count);
    // The worst measured run, not the best: a bound on what a caught-up check costs.
    const measured = stats.filter((s) => s.jobs === count);
    const perJob = Math.max(...measured.map((s) => s.statusQueries / s.jobs));
    const strategies = measured.map((s) => JSON.stringify(Object.fromEntries(s.strategies))).join(' ');
    console.error(`  load-balancing: ${count} sticky jobs per run; replica status queries per job ${measured.map((s) => (s.statusQueries / s.jobs).toFixed(5)).join(', ')}; decisions ${strategies}`);
    const cpu = (t: Timed): string => `Node ${t.cpu.nodeUs.toFixed(1)} µs + Redis ${t.cpu.redisUs.toFixed(1)} µs per job`;
    console.error(`  load-balancing: sticky ${Math.round(median.sticky.perSecond)} jobs/s (${cpu(median.sticky)}), always ${Math.round(median.always.perSecond)} jobs/s (${cpu(median.always)})`);
    return [
      {
        id: 'lb.caught-up-round-trips',
        label: `sticky: replica status queries per 10,000 jobs (worst of ${measured.length} runs)`,
        unit: 'queries',
        subject: { label: 'sticky', value: perJob * 10_000 },
        reference: { label: 'one per job', value: 10_000 },
        target: atMost(0.05),
      },
      {
        id: 'lb.sticky-throughput',
        label: `process ${count} one-read jobs: sticky vs always (jobs/s)`,
        unit: 'jobs/s',
        subject: throughput('sticky', median.sticky),
        reference: throughput('always', median.always),
        target: atLeast(0.9),
        cpu: { subject: median.sticky.cpu, reference: median.always.cpu },
      },
    ];
  } finally {
    await cluster.stop();
  }
}

async function run(ctx: BenchContext, cluster: PostgresCluster, count: number, consistency: Consistency, stats: RunStats[]): Promise<Timed> {
  const app = createLagless({ redis: { url: ctx.url, prefix: ctx.prefix(`lb-${consistency}`) }, logger: false, databases: { main: { primary: cluster.primaryUrl, replicas: cluster.replicaUrls } } });
  const store = app.store;
  if (!(store instanceof PartitionedStore)) throw new Error('createLagless({ redis }) did not build a Redis store');
  const performed = countdown(count);
  const strategies = new Map<string, number>();
  const W = app.defineWorker({
    name: 'ReadOneRowWorker',
    queue: QUEUE,
    dataConsistency: consistency,
    perform: async (args: { n: number }, job: JobContext) => {
      await job.db('main').query('select $1::int as n', [args.n]);
      const strategy = job.job.load_balancing_strategy ?? 'none';
      strategies.set(strategy, (strategies.get(strategy) ?? 0) + 1);
      performed.tick();
    },
  });
  for (const batch of argBatches(count, ctx.config.counts.batch)) await W.enqueueMany(batch);
  const balancer = app.databases!.balancer('main');
  // Open connections on both hosts before the clock starts, as a long-running worker would have them.
  await Promise.all([balancer.primary, ...balancer.replicas].flatMap((host) => Array.from({ length: CONCURRENCY }, () => host.pool.query('select 1'))));
  const replicaQueries = (): number => balancer.replicas.reduce((sum, host) => sum + host.stats.statusQueries, 0);
  const worker = app.worker({ queues: [QUEUE], concurrency: CONCURRENCY });
  const active = store.keys.queue(QUEUE).active;
  const before = replicaQueries();
  const result = await timed(ctx, count, async () => {
    await worker.start();
    await within(performed.done, TIMEOUT_MS, `load-balanced processing (${consistency})`);
    while ((await ctx.admin.hlen(active)) > 0) await sleep(1);
  });
  stats.push({ statusQueries: replicaQueries() - before, jobs: count, strategies });
  const sizes = await store.queueSizes(QUEUE);
  if (sizes.ready + sizes.inFlight + sizes.retry + sizes.dead > 0) throw new Error(`load-balanced processing left jobs behind: ${JSON.stringify(sizes)}`);
  await app.close();
  return result;
}
