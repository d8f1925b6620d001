import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp, type Worker } from '../../src/index.js';
import type { RedisJobStore } from '../../src/redis/redis-store.js';
import { nodeCommand, startRedisCluster, type RedisClusterHandle } from '../../src/sandbox/redis-cluster.js';
import { waitFor } from '../helpers/log-capture.js';

const QUEUE = 'hot';
const PARTITIONS = 8;

describe('a queue with 8 partitions on Redis Cluster (3 masters + 3 replicas)', () => {
  let cluster: RedisClusterHandle;
  const apps: LaglessApp[] = [];
  const prefix = `pc${randomBytes(3).toString('hex')}`;
  const ran: string[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    await cluster?.stop();
  });

  function appOn(): { app: LaglessApp; plain: Worker<{ n: string }>; once: Worker<{ n: string }> } {
    const app = createLagless({ redis: { cluster: { nodes: [cluster.nodes[0]!] }, prefix }, logger: false, queues: { [QUEUE]: { partitions: PARTITIONS } } });
    apps.push(app);
    const plain = app.defineWorker({ name: 'Plain', queue: QUEUE, perform: (args: { n: string }) => void ran.push(args.n) });
    const once = app.defineWorker({ name: 'Once', queue: QUEUE, idempotent: true, perform: (args: { n: string }) => void ran.push(args.n) });
    return { app, plain, once };
  }

  /** The master serving a key's slot now. */
  async function masterOfKey(key: string): Promise<number> {
    const port = cluster.processes[0]!.port;
    const [slot] = await nodeCommand(port, ['CLUSTER', 'KEYSLOT', key]);
    const slots = (await nodeCommand(port, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
    return Number(slots.find(([from, to]) => Number(slot) >= from && Number(slot) <= to)![2][1]);
  }

  /** Global pub/sub messages every node has sent over the cluster bus so far. */
  async function broadcasts(): Promise<number> {
    let sent = 0;
    for (const port of cluster.processes.map((p) => p.port)) {
      const info = String(await nodeCommand(port, ['CLUSTER', 'INFO']));
      sent += Number(/cluster_stats_messages_publish_sent:(\d+)/.exec(info)?.[1] ?? 0);
    }
    return sent;
  }

  it('delivers an SPUBLISH made by a script to an SSUBSCRIBEr on the master of its slot, broadcasting nothing over the cluster bus', async () => {
    const channel = `${prefix}:{probe}:signal:pub`;
    const owner = await masterOfKey(channel);
    const subscriber = new Redis({ port: owner, host: '127.0.0.1' });
    const publisher = new Redis({ port: owner, host: '127.0.0.1' });
    try {
      const got: string[] = [];
      subscriber.on('smessage', (ch: string) => got.push(ch));
      await subscriber.ssubscribe(channel);
      const broadcast = await broadcasts();
      await publisher.eval("return redis.call('SPUBLISH', KEYS[1], '1')", 1, channel);
      await waitFor(() => got.length === 1, 5000, 'the message on the master of the slot');
      expect(got).toEqual([channel]);
      // A PUBLISH would have gone to all 5 other nodes over the bus; an SPUBLISH goes to the shard's replica at most.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await broadcasts()).toBe(broadcast);
    } finally {
      subscriber.disconnect();
      publisher.disconnect();
    }
  });

  it('runs 9,600 jobs once (enqueued by concurrent callers in 2 apps, then drained by 2 worker apps), with dedup exact and EVALSHA calls per master within ±15 %', async () => {
    const masters = await cluster.masters();
    const partitionMasters = await Promise.all(Array.from({ length: PARTITIONS }, (_, i) => masterOfKey(`${prefix}:{${QUEUE}#${i}}:ready`)));
    expect(new Set(partitionMasters).size).toBe(3);

    const enqueuers = [appOn(), appOn()];
    // Before any worker runs: an until_executing cookie is released when its job is fetched.
    const twins = await Promise.all(Array.from({ length: 100 }, (_, i) => enqueuers[i % 2]!.once.enqueue({ n: 'same' })));
    expect(twins.filter((r) => !r.deduplicated)).toHaveLength(1);
    const workerApps = [appOn(), appOn()].map(({ app }) => app);
    const startWorkers = async (): Promise<{ stop(): Promise<void> }[]> => {
      const workers = workerApps.map((app) => app.worker({ queues: [QUEUE], concurrency: 20 }));
      for (const worker of workers) await worker.start();
      return workers;
    };
    // Warm-up: scripts loaded and slots known everywhere before counting.
    await Promise.all(enqueuers.map(({ plain }, e) => plain.enqueue({ n: `warm${e}` })));
    let workers = await startWorkers();
    await waitFor(() => ran.length === 3, 10_000, 'the warm-up jobs and the deduplicated one');
    for (const worker of workers) await worker.stop();

    const calls = async (): Promise<number[]> =>
      Promise.all(masters.map(async (port) => {
        const stats = String(await nodeCommand(port, ['INFO', 'commandstats']));
        const of = (cmd: string): number => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
        return of('evalsha') + of('eval');
      }));
    // Counted: 9,600 jobs enqueued by 12 concurrent callers in 2 apps, then drained by 2 worker apps. A drain of a
    // full queue is the load to spread; workers racing the enqueuers for a few jobs at a time make every fetch walk
    // the partitions for them, which says more about timing than about the spread.
    const before = await calls();
    const perLoop = 800;
    const loops = 6;
    await Promise.all(
      enqueuers.flatMap(({ plain }, e) =>
        Array.from({ length: loops }, async (_, l) => {
          for (let i = 0; i < perLoop; i++) await plain.enqueue({ n: `e${e}l${l}i${i}` });
        }),
      ),
    );
    workers = await startWorkers();
    const total = 2 + 2 * loops * perLoop + 1;
    await waitFor(() => ran.length >= total, 60_000, `${total} jobs to run`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await calls();
    for (const worker of workers) await worker.stop();
    for (const app of apps.splice(0)) await app.close();

    expect(ran).toHaveLength(total);
    expect(new Set(ran).size).toBe(total);
    const deltas = after.map((n, i) => n - before[i]!);
    const mean = deltas.reduce((a, b) => a + b, 0) / deltas.length;
    console.log(`EVALSHA calls per master over the run: ${deltas.join(', ')} (partitions per master ${masters.map((m) => partitionMasters.filter((p) => p === m).length).join('/')})`);
    for (const n of deltas) expect(Math.abs(n - mean) / mean).toBeLessThanOrEqual(0.15);
  }, 120_000);

  it('wakes a worker on all 8 partitions through one subscriber connection per master, on an SPUBLISH from the master of the partition', async () => {
    const { app, plain } = appOn();
    const store = app.store as RedisJobStore;
    const masters = await cluster.masters();
    const waited = store.jobWait({ queues: [QUEUE], timeoutMs: 30_000 });
    // Every connection of the store's wake-up client, on every node: ioredis names a sharded subscriber
    // `ioredis-cluster(ssubscriber):<our name>`.
    const wakeUps = async (): Promise<string[]> => {
      const names: string[] = [];
      for (const port of cluster.processes.map((p) => p.port)) names.push(...(String(await nodeCommand(port, ['CLIENT', 'LIST'])).match(/name=\S*lagless:wake-up(?= )/g) ?? []));
      return names;
    };
    const subscribers = async (): Promise<string[]> => (await wakeUps()).filter((name) => name.includes('ssubscriber'));
    await waitFor(async () => (await subscribers()).length === masters.length, 5000, 'a subscriber on every master');
    console.log(`wake-up connections: ${(await wakeUps()).join(', ')}`);
    const broadcast = await broadcasts();
    const started = performance.now();
    await plain.enqueue({ n: 'wake' });
    await waited;
    expect(performance.now() - started).toBeLessThan(5000);
    // The 9 channels (the queue's own keys and 8 partitions) on 3 masters: one subscriber per master, beside the one
    // node connection the cluster client keeps to learn the slots; not one connection per partition.
    expect(await subscribers()).toHaveLength(masters.length);
    expect((await wakeUps()).length).toBeLessThanOrEqual(masters.length + 1);
    expect(await broadcasts()).toBe(broadcast);
  }, 30_000);
});
