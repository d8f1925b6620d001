import { Redis } from 'ioredis';
import { createLagless, type LaglessApp, type LaglessConfig } from '../../dist/index.js';
import { startRedisCluster } from '../../dist/sandbox/redis-cluster.js';
import { CALLERS, callersLoop } from '../callers.js';
import { interleaved, medianOf } from '../compare.js';
import type { BenchContext } from '../context.js';
import { countdown, expectCount, sleep, within, type Timed } from '../measure.js';
import { atLeast, atMost, throughput, type Check, type Scenario, type Target } from '../results.js';
import { smallArgs } from '../systems/args.js';
import { QUEUE } from '../systems/lagless.js';
import { nodeAdmin, timedOn } from './cluster.js';

const PARTITIONS = 8;
/** Enqueues per second of the paced runs: well below what any side reaches, so no core is saturated. */
const PACED_RATE = 10_000;

/**
 * A partitioned queue (README, Partitioned queues). One queue, enqueued by 20 concurrent callers and run by a worker
 * of concurrency 20 in the same process, until every job ran: on the single private server as it is, and with
 * `partitions: 8` on a private 3-master cluster without replicas. Redis CPU per job is summed over the masters (the
 * single server has no replica either). On a 2-core machine the cluster cannot win on wall time; the figures that
 * matter are CPU per job (target: within 1.2× of one Redis; and, to tell the cluster's own price from the
 * partitions', the same queue unpartitioned on the cluster) and how evenly the masters share the scripts (EVALSHA
 * calls of the busiest master against the mean; target: within 1.15×).
 * CPU per job is measured twice. At full speed, three busy masters and Node share 2 cores, and every node's CPU per
 * command rises with the contention (the same commands cost up to 2× what they cost on one busy Redis): on separate
 * machines that price is not paid. At a paced PACED_RATE no core is saturated, so the figure is the work the
 * partitions add; the targets are on the paced rows, the full-speed rows are shown beside them. A paced row for the
 * queue on a one-node cluster tells what cluster mode itself costs a job, before any spreading.
 */
export const partitionsScenario: Scenario = {
  name: 'partitions',
  title: `a queue with ${PARTITIONS} partitions on a 3-master Redis Cluster vs the same queue on one Redis`,
  run: async (ctx) => {
    // No replicas, as the single server has none (see cluster.ts): measured with 1 replica per master, the cluster's
    // Redis CPU per job rose from 1.4× to 2.7× one Redis.
    const cluster = await startRedisCluster({ replicasPerMaster: 0 });
    // The same queue in cluster mode on one node: Redis Cluster's own price, apart from spreading over 3 processes.
    const oneNode = await startRedisCluster({ masters: 1, replicasPerMaster: 0 }).catch(async (error: unknown) => {
      await cluster.stop();
      throw error;
    });
    const masters = (await cluster.masters()).map(nodeAdmin);
    const oneNodeAdmins = (await oneNode.masters()).map(nodeAdmin);
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
      const paced = await interleaved(ctx, {
        single: (n) => runQueue(ctx, n, { url: ctx.url }, [ctx.admin], undefined, PACED_RATE),
        oneNode: (n) => runQueue(ctx, n, { cluster: { nodes: oneNode.nodes } }, oneNodeAdmins, undefined, PACED_RATE),
        unpartitioned: (n) => runQueue(ctx, n, { cluster: { nodes: cluster.nodes } }, masters, undefined, PACED_RATE),
        partitioned: (n) => runQueue(ctx, n, { cluster: { nodes: cluster.nodes } }, masters, PARTITIONS, PACED_RATE),
      });
      const pacedLabel = `at a paced ${PACED_RATE.toLocaleString('en')} jobs/s`;
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
          redisCpuCheck('partitions.redis-cpu-paced', `${pacedLabel}: ${PARTITIONS} partitions on 3 masters vs one Redis`, ['cluster', paced.partitioned], ['one Redis', paced.single], atMost(1.2)),
          redisCpuCheck('partitions.redis-cpu-one-node-paced', `${pacedLabel}: the queue unpartitioned on a one-node cluster vs one Redis (cluster mode alone)`, ['one-node cluster', paced.oneNode], ['one Redis', paced.single]),
          redisCpuCheck('partitions.redis-cpu-cluster-paced', `${pacedLabel}: ${PARTITIONS} partitions vs the same queue unpartitioned, both on the cluster`, [`${PARTITIONS} partitions`, paced.partitioned], ['unpartitioned', paced.unpartitioned], atMost(1.2)),
          redisCpuCheck('partitions.redis-cpu', `at full speed, 3 masters and Node sharing 2 cores: ${PARTITIONS} partitions on 3 masters vs one Redis`, ['cluster', runs.partitioned], ['one Redis', runs.single]),
          redisCpuCheck('partitions.redis-cpu-cluster', `at full speed: ${PARTITIONS} partitions vs the same queue unpartitioned, both on the cluster`, [`${PARTITIONS} partitions`, runs.partitioned], ['unpartitioned', runs.unpartitioned]),
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
      for (const client of [...masters, ...oneNodeAdmins]) client.disconnect();
      await Promise.all([cluster.stop(), oneNode.stop()]);
    }
  },
};

/** Redis CPU per job (summed over masters) of two runs; `target` on their ratio, or none for a figure shown for context. */
function redisCpuCheck(id: string, how: string, [subjectLabel, subject]: [string, Timed], [referenceLabel, reference]: [string, Timed], target?: Target): Check {
  return {
    id,
    label: `Redis CPU per job (µs, summed over masters) ${how}`,
    unit: 'µs',
    subject: { label: subjectLabel, value: subject.cpu.redisUs },
    reference: { label: referenceLabel, value: reference.cpu.redisUs },
    ...(target ? { target } : {}),
    cpu: { subject: subject.cpu, reference: reference.cpu },
  };
}

/** `count` jobs enqueued and run; by CALLERS concurrent callers as fast as they go, or at `rate` jobs/s. */
async function runQueue(ctx: BenchContext, count: number, redis: NonNullable<LaglessConfig['redis']>, admins: Redis[], partitions?: number, rate?: number): Promise<Timed> {
  const app: LaglessApp = createLagless({ redis: { ...redis, prefix: ctx.prefix('lagless-partitions') }, logger: false, ...(partitions ? { queues: { [QUEUE]: { partitions } } } : {}) });
  const ran = countdown(count);
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => ran.tick() });
  await app.store.queueSizes(QUEUE); // connect before the clock starts
  const worker = app.worker({ queues: [QUEUE], concurrency: 20 });
  await worker.start();
  const result = await timedOn(ctx, admins, count, async () => {
    if (rate) await pacedLoop(count, rate, (i) => W.enqueue(smallArgs(i)));
    else await callersLoop(count, CALLERS, (i) => W.enqueue(smallArgs(i)));
    await within(ran.done, 300_000, 'the partitioned queue run');
  });
  await worker.stop();
  expectCount(0, (await app.store.queueSizes(QUEUE)).ready, 'jobs left in the partitioned queue');
  await app.close();
  return result;
}

/** `count` calls at `rate` per second: every 10 ms, the calls due by then, issued together (requests of one tick). */
async function pacedLoop(count: number, rate: number, call: (i: number) => Promise<unknown>): Promise<void> {
  const started = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.ceil(((performance.now() - started) / 1000) * rate));
    const calls: Promise<unknown>[] = [];
    while (sent < due) calls.push(call(sent++));
    await Promise.all(calls);
    await sleep(10);
  }
}

/** EVALSHA and EVAL calls a node has served so far (INFO commandstats). */
async function scriptCalls(admin: Redis): Promise<number> {
  const text = await admin.info('commandstats');
  const of = (cmd: string): number => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(text)?.[1] ?? 0);
  return of('evalsha') + of('eval');
}
