import { Redis } from 'ioredis';
import { createLagless, type LaglessApp, type LaglessConfig } from '../../dist/index.js';
import { startRedisCluster } from '../../dist/sandbox/redis-cluster.js';
import { CALLERS, callersLoop } from '../callers.js';
import { interleaved, medianOf } from '../compare.js';
import type { BenchContext } from '../context.js';
import { countdown, expectCount, within, type Timed } from '../measure.js';
import { atLeast, atMost, throughput, type Scenario } from '../results.js';
import { smallArgs } from '../systems/args.js';
import { QUEUE } from '../systems/lagless.js';
import { timedOn } from './cluster.js';

const PARTITIONS = 8;

/**
 * A partitioned queue (README, Partitioned queues). One queue, enqueued by 20 concurrent callers and run by a worker
 * of concurrency 20 in the same process, until every job ran: on the single private server as it is, and with
 * `partitions: 8` on a private 3-master cluster without replicas. Redis CPU per job is summed over the masters (the
 * single server has no replica either). On a 2-core machine the cluster cannot win on wall time; the figures that
 * matter are CPU per job (target: within 1.2× of one Redis; and, to tell the cluster's own price from the
 * partitions', the same queue unpartitioned on the cluster) and how evenly the masters share the scripts (EVALSHA
 * calls of the busiest master against the mean; target: within 1.15×).
 */
export const partitionsScenario: Scenario = {
  name: 'partitions',
  title: `a queue with ${PARTITIONS} partitions on a 3-master Redis Cluster vs the same queue on one Redis`,
  run: async (ctx) => {
    // No replicas, as the single server has none (see cluster.ts): measured with 1 replica per master, the cluster's
    // Redis CPU per job rose from 1.4× to 2.7× one Redis.
    const cluster = await startRedisCluster({ replicasPerMaster: 0 });
    const masters = (await cluster.masters()).map((port) => new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null }));
    /** Busiest master's EVALSHA calls over the mean, per cluster run. */
    const spreads: number[] = [];
    try {
      const runs = await interleaved(ctx, {
        single: (n) => runQueue(ctx, n, { url: ctx.url }, [ctx.admin]),
        // The same queue unpartitioned on the cluster: the cluster's own price, apart from the partitions'.
        unpartitioned: (n) => runQueue(ctx, n, { cluster: { nodes: cluster.nodes } }, masters),
        partitioned: async (n) => {
          const before = await Promise.all(masters.map(scriptCalls));
          const run = await runQueue(ctx, n, { cluster: { nodes: cluster.nodes } }, masters, PARTITIONS);
          const calls = (await Promise.all(masters.map(scriptCalls))).map((after, i) => after - before[i]!);
          spreads.push(Math.max(...calls) / (calls.reduce((a, b) => a + b, 0) / calls.length));
          console.error(`  EVALSHA per master: ${calls.join(' / ')}`);
          return run;
        },
      });
      const spread = medianOf(spreads);
      return {
        rows: [],
        checks: [
          {
            id: 'partitions.throughput',
            label: `enqueue + run, ${CALLERS} callers: ${PARTITIONS} partitions on 3 masters vs one Redis (jobs/s; 2 cores: informational)`,
            unit: 'jobs/s',
            subject: throughput(`${PARTITIONS} partitions`, runs.partitioned),
            reference: throughput('one Redis', runs.single),
            target: atLeast(0.5),
          },
          {
            id: 'partitions.redis-cpu',
            label: `Redis CPU per job (µs, summed over masters): ${PARTITIONS} partitions on 3 masters vs one Redis`,
            unit: 'µs',
            subject: { label: 'cluster', value: runs.partitioned.cpu.redisUs },
            reference: { label: 'one Redis', value: runs.single.cpu.redisUs },
            target: atMost(1.2),
            cpu: { subject: runs.partitioned.cpu, reference: runs.single.cpu },
          },
          {
            id: 'partitions.redis-cpu-cluster',
            label: `Redis CPU per job (µs, summed over masters): ${PARTITIONS} partitions vs the same queue unpartitioned, both on the cluster`,
            unit: 'µs',
            subject: { label: `${PARTITIONS} partitions`, value: runs.partitioned.cpu.redisUs },
            reference: { label: 'unpartitioned', value: runs.unpartitioned.cpu.redisUs },
            target: atMost(1.2),
            cpu: { subject: runs.partitioned.cpu, reference: runs.unpartitioned.cpu },
          },
          {
            id: 'partitions.spread',
            label: 'EVALSHA calls of the busiest master vs the mean of the 3 (median over runs)',
            unit: '×',
            subject: { label: 'busiest', value: spread, range: { min: Math.min(...spreads), max: Math.max(...spreads), runs: spreads.length } },
            reference: { label: 'mean', value: 1 },
            target: atMost(1.15),
          },
        ],
      };
    } finally {
      for (const admin of masters) admin.disconnect();
      await cluster.stop();
    }
  },
};

async function runQueue(ctx: BenchContext, count: number, redis: NonNullable<LaglessConfig['redis']>, admins: Redis[], partitions?: number): Promise<Timed> {
  const app: LaglessApp = createLagless({ redis: { ...redis, prefix: ctx.prefix('lagless-partitions') }, logger: false, ...(partitions ? { queues: { [QUEUE]: { partitions } } } : {}) });
  const ran = countdown(count);
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => ran.tick() });
  await app.store.queueSizes(QUEUE); // connect before the clock starts
  const worker = app.worker({ queues: [QUEUE], concurrency: 20 });
  await worker.start();
  const result = await timedOn(ctx, admins, count, async () => {
    await callersLoop(count, CALLERS, (i) => W.enqueue(smallArgs(i)));
    await within(ran.done, 300_000, 'the partitioned queue run');
  });
  await worker.stop();
  expectCount(0, (await app.store.queueSizes(QUEUE)).ready, 'jobs left in the partitioned queue');
  await app.close();
  return result;
}

/** EVALSHA and EVAL calls a node has served so far (INFO commandstats). */
async function scriptCalls(admin: Redis): Promise<number> {
  const text = await admin.info('commandstats');
  const of = (cmd: string): number => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(text)?.[1] ?? 0);
  return of('evalsha') + of('eval');
}
