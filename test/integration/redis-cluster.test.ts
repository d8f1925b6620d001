import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagChangeNotice } from '../../src/flags/change-bus.js';
import { RedisFlagChangeBus } from '../../src/flags/redis-change-bus.js';
import { createLagless, Dashboard, InvalidOptionError, type LaglessApp, type Worker } from '../../src/index.js';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { nodeCommand, startRedisCluster, type RedisClusterHandle } from '../../src/sandbox/redis-cluster.js';
import { waitFor } from '../helpers/log-capture.js';
import { DashboardClient, listen } from '../support/dashboard-client.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const QUEUES = ['mail', 'media', 'billing', 'search', 'reports', 'exports'];

describe('lagless on Redis Cluster (3 masters + 3 replicas)', () => {
  let cluster: RedisClusterHandle;
  let app: LaglessApp;
  const prefix = `rc${randomBytes(3).toString('hex')}`;
  const ran: string[] = [];
  const workers = new Map<string, Worker<{ n: string }>>();
  const closers: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    app = createLagless({ redis: { cluster: { nodes: [cluster.nodes[0]!] }, prefix }, logger: false });
    for (const queue of QUEUES) workers.set(queue, app.defineWorker({ name: `W_${queue}`, queue, perform: (args: { n: string }) => void ran.push(args.n) }));
    workers.set('once', app.defineWorker({ name: 'Once', queue: 'mail', idempotent: true, perform: (args: { n: string }) => void ran.push(args.n) }));
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await app?.close();
    await cluster?.stop();
  });

  it('puts the queues on more than one master (each queue in its own slot)', async () => {
    const port = cluster.processes[0]!.port;
    const slots = (await nodeCommand(port, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
    const masters = new Set<number>();
    for (const queue of QUEUES) {
      const [slot] = await nodeCommand(port, ['CLUSTER', 'KEYSLOT', (app.store as RedisJobStore).keys.queue(queue).ready]);
      masters.add(Number(slots.find(([from, to]) => Number(slot) >= from && Number(slot) <= to)![2][1]));
    }
    expect(masters.size).toBeGreaterThan(1);
  });

  it('runs single, bulk, scheduled and deduplicated jobs of every queue exactly once, and registers every queue', async () => {
    const expected: string[] = [];
    for (const queue of QUEUES) {
      await workers.get(queue)!.enqueue({ n: `single-${queue}` });
      await workers.get(queue)!.enqueueMany([{ n: `bulk1-${queue}` }, { n: `bulk2-${queue}` }]);
      await workers.get(queue)!.enqueueIn(200, { n: `later-${queue}` });
      expected.push(`single-${queue}`, `bulk1-${queue}`, `bulk2-${queue}`, `later-${queue}`);
    }
    const first = await workers.get('once')!.enqueue({ n: 'dedup' });
    const second = await workers.get('once')!.enqueue({ n: 'dedup' });
    expect([first.deduplicated, second.deduplicated]).toEqual([false, true]);
    expected.push('dedup');
    const worker = app.worker({ queues: QUEUES, concurrency: 4, maintenanceIntervalMs: 100 });
    await worker.start();
    closers.push(() => worker.stop());
    await waitFor(() => ran.length >= expected.length, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...ran].sort()).toEqual(expected.sort());
    expect(await app.store.queueList()).toEqual([...QUEUES].sort());
    for (const queue of QUEUES) expect((await app.store.queueCounters(queue)).processed).toBeGreaterThanOrEqual(4);
  });

  it('carries flag change notices over pub/sub between two cluster clients', async () => {
    const other = new RedisJobStore({ cluster: { nodes: [cluster.nodes[3]!] }, prefix });
    closers.push(() => other.close());
    const channel = `${prefix}:feature_flags:changed`;
    const subscriber = new RedisFlagChangeBus(other.client, channel);
    closers.push(() => subscriber.close());
    const seen: FlagChangeNotice[] = [];
    await subscriber.subscribe((notice) => seen.push(notice));
    const notice: FlagChangeNotice = { name: 'new_checkout', environment: 'production', action: 'enable' };
    await waitFor(async () => {
      await new RedisFlagChangeBus((app.store as RedisJobStore).client, channel).publish(notice);
      return seen.length > 0;
    }, 5000);
    expect(seen[0]).toEqual(notice);
  });

  it('serves queue sizes on the dashboard API and /metrics', async () => {
    await app.store.jobPush({ queue: 'reports', jid: 'parked', raw: JSON.stringify({ jid: 'parked', class: 'W_reports', args: {}, created_at: 1 }), nowMs: Date.now(), runAtMs: Date.now() + 3_600_000 });
    const dashboard = new Dashboard(app, {});
    const served = await listen(dashboard.handler);
    closers.push(() => dashboard.close(), served.close);
    const client = await new DashboardClient(served.base).open();
    expect(await client.get('/metrics').then((r) => r.body as string)).toMatch(/lagless_queue_jobs\{queue="reports",state="scheduled"\} 1/);
    expect(JSON.stringify((await client.get('/api/queues')).body)).toContain('"reports"');
  });

  it('answers the CLI with --redis <node> --cluster', async () => {
    const cli = async (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args]);
    const { stdout } = await cli('queues', '--redis', cluster.nodes[4]!, '--cluster', '--prefix', prefix, '--json');
    const rows = JSON.parse(stdout) as { queue: string; scheduled: number }[];
    expect(rows.map((row) => row.queue)).toEqual([...QUEUES].sort());
    expect(rows.find((row) => row.queue === 'reports')).toMatchObject({ scheduled: 1 });
  }, 30_000);

  it('refuses a redis option that names two targets, or sentinels without a master name', () => {
    expect(() => createLagless({ redis: { url: cluster.nodes[0]!, cluster: { nodes: [cluster.nodes[0]!] } }, logger: false })).toThrow(InvalidOptionError);
    expect(() => createLagless({ redis: { url: cluster.nodes[0]!, cluster: { nodes: [cluster.nodes[0]!] } }, logger: false })).toThrow(/exactly one of url, cluster: \{ nodes \} or sentinels \+ name \(got url and cluster\)/);
    expect(() => createLagless({ redis: { sentinels: [{ host: '127.0.0.1', port: 26379 }] }, logger: false })).toThrow(/sentinels need name/);
  });
});

describe('lagless on a one-node Redis Cluster (cluster mode without sharding)', () => {
  it('serves every slot from the lone master and runs jobs through it, woken by pub/sub', async () => {
    await expect(startRedisCluster({ masters: 1 })).rejects.toThrow(/no replicas: pass replicasPerMaster: 0/);
    const cluster = await startRedisCluster({ masters: 1, replicasPerMaster: 0 });
    const app = createLagless({ redis: { cluster: { nodes: cluster.nodes }, prefix: `one${randomBytes(3).toString('hex')}` }, logger: false });
    try {
      const [port] = await cluster.masters();
      expect(await cluster.masters()).toHaveLength(1);
      expect(await nodeCommand(port!, ['CLUSTER', 'SLOTS'])).toEqual([[0, 16383, ['127.0.0.1', port, expect.any(String), []]]]);
      const ran: number[] = [];
      const W = app.defineWorker<{ n: number }>({ name: 'OneNode', queue: 'one', perform: (args) => void ran.push(args.n) });
      const worker = app.worker({ queues: ['one'], concurrency: 2 });
      await worker.start();
      // Each job starts well within the idle worker's 1 s wait: the message woke it, not the wait's timeout.
      for (const n of [1, 2, 3]) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        const enqueuedAt = Date.now();
        await W.enqueue({ n });
        await waitFor(() => ran.includes(n), 5000);
        expect(Date.now() - enqueuedAt).toBeLessThan(300);
      }
      await W.enqueueMany([{ n: 4 }, { n: 5 }]);
      await waitFor(() => ran.length === 5, 5000);
      await worker.stop();
      expect(ran.sort()).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await app.close();
      await cluster.stop();
    }
  }, 30_000);
});
