import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { createLagless, PartitionedStore, type LaglessApp, type LaglessConfig } from '../../dist/index.js';
import { startRedisCluster, type RedisClusterHandle } from '../../dist/sandbox/redis-cluster.js';
import { startRedisServer } from '../../dist/sandbox/redis-server.js';
import { CALLERS, callersLoop } from '../callers.js';
import { interleaved } from '../compare.js';
import type { BenchContext } from '../context.js';
import { expectCount, timed, type Timed } from '../measure.js';
import { redisCpuUs } from '../redis-info.js';
import { atMost, throughputRow, type Measured, type Scenario } from '../results.js';
import { smallArgs } from '../systems/args.js';
import { BULL_JOB, BULL_JOB_OPTIONS, BULL_QUEUE } from '../systems/bullmq.js';
import { QUEUE } from '../systems/lagless.js';

/**
 * Redis Cluster and replicated acknowledgements. On a private 3-master cluster: one queue enqueued by 20 concurrent
 * callers, lagless beside BullMQ (whose keys share one slot through a `{…}` prefix), with Redis CPU summed over the
 * masters; the same queue on the single private server as the reference for CPU per job. On a private primary +
 * replica: sequential enqueue with and without `durableEnqueue: { replicas: 1 }`, the price of one WAIT per enqueue,
 * and against its floor (a one-write script and WAIT in one pipeline).
 */
export const clusterScenario: Scenario = {
  name: 'cluster',
  title: 'Redis Cluster (one queue, 3 masters) and durableEnqueue (WAIT 1 replica)',
  run: async (ctx) => {
    // No replicas, as the single-server reference has none: a master feeding a replica spends CPU on the replication
    // stream (the price of failover, not of the cluster), and on 2 cores the replicas take CPU from the masters.
    const cluster = await startRedisCluster({ replicasPerMaster: 0 });
    const admins = (await cluster.masters()).map(nodeAdmin);
    const primary = await startRedisServer();
    const replica = await startRedisServer();
    const replicaAdmin = new Redis(replica.url, { maxRetriesPerRequest: null });
    const primaryAdmin = new Redis(primary.url, { maxRetriesPerRequest: null });
    try {
      const onCluster = await interleaved(ctx, {
        single: (n) => laglessRun(ctx, n, { url: ctx.url }, [ctx.admin]),
        lagless: (n) => laglessRun(ctx, n, { cluster: { nodes: cluster.nodes } }, admins),
        bullmq: (n) => bullRun(ctx, n, cluster, admins),
      });
      await replicaAdmin.replicaof('127.0.0.1', primary.port);
      await waitLinked(replicaAdmin);
      const durable = await interleaved(ctx, {
        plain: (n) => laglessRun(ctx, n, { url: primary.url }, [primaryAdmin, replicaAdmin], 1),
        // A generous timeout: this measures what a confirmed WAIT costs, and a loaded machine can stall the replica.
        durable: (n) => laglessRun(ctx, n, { url: primary.url, durableEnqueue: { replicas: 1, timeoutMs: 2000 } }, [primaryAdmin, replicaAdmin], 1),
        floor: (n) => durableFloorRun(ctx, n, primary.url, [primaryAdmin, replicaAdmin]),
      });
      return {
        rows: [throughputRow({ id: 'cluster.enqueue', label: `enqueue on a 3-master Redis Cluster, ${CALLERS} concurrent callers, one queue` }, onCluster.lagless, onCluster.bullmq)],
        checks: [
          {
            id: 'cluster.redis-cpu',
            label: 'Redis CPU per enqueue (µs, summed over masters): 3-master cluster vs one Redis',
            unit: 'µs',
            subject: { label: 'cluster', value: onCluster.lagless.cpu.redisUs },
            reference: { label: 'one Redis', value: onCluster.single.cpu.redisUs },
            target: atMost(1.2),
            cpu: { subject: onCluster.lagless.cpu, reference: onCluster.single.cpu },
          },
          {
            // What a WAIT costs is Redis replication's round trip on this host, not lagless's: shown, with no target.
            id: 'durable-enqueue.cost',
            label: 'sequential enqueue with durableEnqueue (WAIT 1 replica) vs without (µs per call)',
            unit: 'µs',
            subject: microseconds('durableEnqueue', durable.durable),
            reference: microseconds('plain', durable.plain),
            cpu: { subject: durable.durable.cpu, reference: durable.plain.cpu },
          },
          {
            id: 'durable-enqueue.floor',
            label: 'sequential enqueue with durableEnqueue vs bare one-write script + WAIT 1 in one pipeline (µs per call)',
            unit: 'µs',
            subject: microseconds('durableEnqueue', durable.durable),
            reference: microseconds('INCR script + WAIT', durable.floor),
            target: atMost(1.3),
            cpu: { subject: durable.durable.cpu, reference: durable.floor.cpu },
          },
        ],
      };
    } finally {
      for (const admin of [...admins, replicaAdmin, primaryAdmin]) admin.disconnect();
      await cluster.stop();
      await replica.stop();
      await primary.stop();
    }
  },
};

function microseconds(label: string, run: Timed): Measured {
  return { label, value: 1e6 / run.perSecond };
}

/** `timed`, with Redis CPU taken as the sum over `admins` (every node of the setup measured). */
/** A plain connection to one node of a private cluster, for INFO. */
export function nodeAdmin(port: number): Redis {
  return new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
}

export async function timedOn(ctx: BenchContext, admins: Redis[], jobs: number, run: () => Promise<void>): Promise<Timed> {
  const before = await Promise.all(admins.map(redisCpuUs));
  const result = await timed(ctx, jobs, run);
  const after = await Promise.all(admins.map(redisCpuUs));
  const redisUs = after.reduce((sum, us, i) => sum + us - before[i]!, 0) / jobs;
  return { ...result, cpu: { nodeUs: result.cpu.nodeUs, redisUs } };
}

async function laglessRun(ctx: BenchContext, count: number, redis: NonNullable<LaglessConfig['redis']>, admins: Redis[], callers = CALLERS): Promise<Timed> {
  const app: LaglessApp = createLagless({ redis: { ...redis, prefix: ctx.prefix('lagless-cluster') }, logger: false });
  const W = app.defineWorker({ name: 'NoopWorker', queue: QUEUE, perform: () => undefined });
  await app.store.queueSizes(QUEUE); // connect before the clock starts
  const result = await timedOn(ctx, admins, count, () => callersLoop(count, callers, (i) => W.enqueue(smallArgs(i))));
  expectCount(count, (await app.store.queueSizes(QUEUE)).ready, 'lagless cluster enqueue');
  await app.close();
  return result;
}

/**
 * The floor of one durable enqueue: a script that makes one write, then WAIT for 1 replica, in one pipeline, one
 * awaited call at a time, on a connection built as the enqueuing app's (a second app's store connection).
 */
async function durableFloorRun(ctx: BenchContext, count: number, url: string, admins: Redis[]): Promise<Timed> {
  const app = createLagless({ redis: { url, prefix: ctx.prefix('durable-floor') }, logger: false });
  if (!(app.store instanceof PartitionedStore)) throw new Error('createLagless({ redis }) did not build a Redis store');
  const client = app.store.client;
  await app.store.queueSizes(QUEUE); // connected: the store's connection never queues commands
  const sha = (await client.script('LOAD', "return redis.call('INCR', KEYS[1])")) as string;
  const key = ctx.prefix('durable-floor-writes');
  const result = await timedOn(ctx, admins, count, async () => {
    for (let i = 0; i < count; i++) {
      const replies = await client.pipeline().evalsha(sha, 1, key).wait(1, 2000).exec();
      if (Number(replies?.[1]?.[1]) < 1) throw new Error('the bench replica did not confirm a write within 2 s');
    }
  });
  await app.close();
  return result;
}

async function bullRun(ctx: BenchContext, count: number, cluster: RedisClusterHandle, admins: Redis[]): Promise<Timed> {
  const connection = new Cluster(cluster.nodes.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) })), { redisOptions: { maxRetriesPerRequest: null } });
  // BullMQ on a cluster: a hash-tagged prefix keeps every key of the queue in one slot.
  const queue = new Queue(BULL_QUEUE, { connection, prefix: `{${ctx.prefix('bull-cluster')}}` });
  await queue.waitUntilReady();
  const result = await timedOn(ctx, admins, count, () => callersLoop(count, CALLERS, (i) => queue.add(BULL_JOB, smallArgs(i), BULL_JOB_OPTIONS)));
  expectCount(count, await queue.getWaitingCount(), 'BullMQ cluster enqueue');
  await queue.close();
  connection.disconnect();
  return result;
}

async function waitLinked(replica: Redis): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await replica.info('replication')).includes('master_link_status:up')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the bench replica did not sync within 10 s');
}
