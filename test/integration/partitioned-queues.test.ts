import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, Dashboard, type LaglessApp, type Worker } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';
import { DashboardClient, listen } from '../support/dashboard-client.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

let redis: RedisServerHandle;
const apps: LaglessApp[] = [];
const plainOf = new Map<LaglessApp, Worker<{ n: string }>>();
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await redis?.stop();
});

/** An app on the private server; each test names its own prefix, so the tests share nothing. */
function appOn(prefix: string, partitions?: number, ran?: string[]): LaglessApp {
  const app = createLagless({ redis: { url: redis.url, prefix }, logger: false, ...(partitions ? { queues: { hot: { partitions } } } : {}) });
  plainOf.set(app, app.defineWorker({ name: 'Plain', queue: 'hot', perform: (args: { n: string }) => void ran?.push(args.n) }));
  app.defineWorker({ name: 'Once', queue: 'hot', idempotent: true, perform: (args: { n: string }) => void ran?.push(args.n) });
  apps.push(app);
  return app;
}

async function runAll(app: LaglessApp, ran: string[], expected: number): Promise<void> {
  const worker = app.worker({ queues: ['hot'], concurrency: 20, maintenanceIntervalMs: 100 });
  await worker.start();
  await waitFor(() => ran.length >= expected, 20_000, `${expected} jobs to run`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await worker.stop();
}

async function cli(prefix: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args, '--redis', redis.url, '--prefix', prefix]);
  return stdout;
}

describe('a queue with 8 partitions on a single Redis', () => {
  it('absorbs 100 concurrent same-args idempotent enqueues from two apps into one job, in one partition', async () => {
    const prefix = `p${randomBytes(3).toString('hex')}`;
    const [a, b] = [appOn(prefix, 8), appOn(prefix, 8)];
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).enqueue('Once', { n: 'same' })));
    expect(results.filter((r) => !r.deduplicated)).toHaveLength(1);
    expect((await a.store.queueSizes('hot')).ready).toBe(1);
    const partitions = await a.store.queuePartitions!('hot');
    const holding = (await Promise.all(partitions.map((q) => a.store.queueSizes(q)))).filter((s) => s.ready > 0);
    expect(holding).toHaveLength(1);
  });

  it('spreads plain jobs evenly, runs every job of every partition once, and sums them for the CLI and the API', async () => {
    const prefix = `p${randomBytes(3).toString('hex')}`;
    const ran: string[] = [];
    const app = appOn(prefix, 8, ran);
    const n = 800;
    await enqueueMany(app, n);
    const partitions = await app.store.queuePartitions!('hot');
    expect(partitions).toEqual(Array.from({ length: 8 }, (_, i) => `hot#${i}`));
    const sizes = await Promise.all(partitions.map((q) => app.store.queueSizes(q)));
    for (const s of sizes) expect(Math.abs(s.ready - n / 8)).toBeLessThan(40);
    expect((await app.store.queueSizes('hot')).ready).toBe(n);

    // The CLI knows nothing of the partitions config: it sums what the queue registry lists.
    expect(JSON.parse(await cli(prefix, 'queues', '--json'))).toEqual([expect.objectContaining({ queue: 'hot', ready: n })]);
    const rows = JSON.parse(await cli(prefix, 'queues', '--json', '--partitions')) as { queue: string; ready: number }[];
    expect(rows.map((r) => r.queue)).toEqual(['hot', ...partitions]);
    expect(rows[0]!.ready).toBe(n);
    expect(rows.slice(1).reduce((sum, r) => sum + r.ready, 0)).toBe(n);

    const dashboard = new Dashboard(app, {});
    const served = await listen(dashboard.handler);
    try {
      const client = await new DashboardClient(served.base).open();
      const summed = (await client.get('/api/queues')).body as { queues: { queue: string; ready: number; partitions?: unknown }[] };
      expect(summed.queues).toEqual([expect.objectContaining({ queue: 'hot', ready: n })]);
      expect(summed.queues[0]!.partitions).toBeUndefined();
      const split = (await client.get('/api/queues?partitions=1')).body as { queues: { partitions: { queue: string; ready: number }[] }[] };
      expect(split.queues[0]!.partitions.map((p) => p.queue)).toEqual(partitions);
      expect(await client.get('/metrics').then((r) => r.body as string)).toMatch(new RegExp(`lagless_queue_jobs\\{queue="hot",state="ready"\\} ${n}`));
    } finally {
      await dashboard.close();
      await served.close();
    }

    await runAll(app, ran, n);
    expect(new Set(ran).size).toBe(n);
    expect(ran).toHaveLength(n);
    expect(await app.store.queueSizes('hot')).toMatchObject({ ready: 0, inFlight: 0 });
    expect((await app.store.queueCounters('hot')).processed).toBe(n);
  }, 60_000);

  it('strands no job when N changes: fewer partitions, more, or none at all', async () => {
    const prefix = `p${randomBytes(3).toString('hex')}`;
    await enqueueMany(appOn(prefix, 8), 100, 'eight');
    await enqueueMany(appOn(prefix), 50, 'none');
    await enqueueMany(appOn(prefix, 3), 50, 'three');
    for (const partitions of [2, undefined]) {
      const ran: string[] = [];
      const app = appOn(prefix, partitions, ran);
      if (partitions === undefined) await enqueueMany(appOn(prefix, 8), 200, 'again');
      await runAll(app, ran, 200);
      expect(ran).toHaveLength(200);
      expect((await app.store.queueSizes('hot')).ready).toBe(0);
    }
  }, 60_000);

  it('sends the plain jobs of push calls in a row to one partition, 100 of them, never splitting a call of at most 200; lone enqueues in turn', async () => {
    const prefix = `p${randomBytes(3).toString('hex')}`;
    const app = appOn(prefix, 8);
    const plain = plainOf.get(app)!;
    const sizes = async (): Promise<number[]> => Promise.all((await app.store.queuePartitions!('hot')).map(async (q) => (await app.store.queueSizes(q)).ready));
    const holding = async (): Promise<number[]> => (await sizes()).filter((n) => n > 0).sort((a, b) => a - b);
    await Promise.all(Array.from({ length: 20 }, (_, i) => plain.enqueue({ n: `tick${i}` }))); // one tick, two calls (8 + 12)
    await enqueueMany(app, 90, 'over-'); // the first chunk takes the whole call: 110
    expect(await holding()).toEqual([110]);
    for (const [n, tag] of [[50, 'next-'], [40, 'rest-'], [10, 'third-']] as const) await enqueueMany(app, n, tag);
    expect(await holding()).toEqual([100, 110]);
    await enqueueMany(app, 190, 'whole-');
    expect(await holding()).toEqual([100, 110, 190]);
    await enqueueMany(app, 290, 'bulk-'); // a larger call goes on to the next partition every 100 jobs
    expect(await holding()).toEqual([90, 100, 100, 100, 110, 190]);
    for (let i = 0; i < 8; i++) await plain.enqueue({ n: `lone${i}` });
    expect((await sizes()).filter((n) => n > 0)).toHaveLength(8);
  });

  it('lists and retries dead jobs of every partition through the CLI, which knows nothing of the partitions', async () => {
    const prefix = `p${randomBytes(3).toString('hex')}`;
    const app = appOn(prefix, 8);
    // Lone enqueues (one awaited at a time) take the partitions in turn.
    for (let i = 0; i < 16; i++) await plainOf.get(app)!.enqueue({ n: `lone${i}` });
    const leased = await app.store.jobFetch({ queue: 'hot', count: 16, token: 't', leaseMs: 60_000, nowMs: Date.now() });
    expect(leased).toHaveLength(16);
    for (const job of leased) await app.store.jobDead({ queue: 'hot', jid: job.jid, token: 't', raw: job.raw, nowMs: Date.now(), runAtMs: Date.now() });
    const partitions = await app.store.queuePartitions!('hot');
    expect((await Promise.all(partitions.map((q) => app.store.queueSizes(q)))).filter((s) => s.dead > 0).length).toBeGreaterThan(1);
    const listed = JSON.parse(await cli(prefix, 'dead', 'list', '--queue', 'hot', '--limit', '50', '--json')) as { jid: string }[];
    expect(listed.map((j) => j.jid).sort()).toEqual(leased.map((j) => j.jid).sort());
    await cli(prefix, 'dead', 'retry', leased[5]!.jid, '--queue', 'hot');
    expect(await app.store.queueSizes('hot')).toMatchObject({ dead: 15, ready: 1 });
  }, 30_000);

  it('pauses and resumes every partition', async () => {
    const prefix = `p${randomBytes(3).toString('hex')}`;
    const ran: string[] = [];
    const app = appOn(prefix, 4, ran);
    await app.queues.pause('hot', 'test');
    await enqueueMany(app, 40);
    const worker = app.worker({ queues: ['hot'], concurrency: 5 });
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ran).toHaveLength(0);
    expect((await app.store.queuePausedAt(['hot']))[0]).toBeDefined();
    await app.queues.resume('hot', 'test');
    await waitFor(() => ran.length === 40, 10_000, '40 jobs after resume');
    await worker.stop();
  }, 30_000);
});

describe('what stays in a partitioned queue\'s own keys, and maintenance of every partition', () => {
  it('keeps a limited worker\'s jobs in the queue\'s own keys, so its concurrency limit holds across partitions', async () => {
    const prefix = `p${randomBytes(3).toString('hex')}`;
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const limited = (app: LaglessApp): Worker<{ i: number }> =>
      app.defineWorker({
        name: 'Limited',
        queue: 'hot',
        concurrencyLimit: 1,
        perform: async (args: { i: number }) => {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 20));
          running--;
          done.push(args.i);
        },
      });
    const [a, b] = [appOn(prefix, 8), appOn(prefix, 8)];
    const worker = limited(a);
    limited(b);
    await worker.enqueueMany(Array.from({ length: 12 }, (_, i) => ({ i })));
    const partitions = await a.store.queuePartitions!('hot');
    expect((await Promise.all(partitions.map((q) => a.store.queueSizes(q)))).every((s) => s.ready === 0)).toBe(true);
    expect((await a.store.queueSizes('hot')).ready).toBe(12);
    const workers = [a, b].map((app) => app.worker({ queues: ['hot'], concurrency: 5 }));
    for (const w of workers) await w.start();
    await waitFor(() => done.length === 12, 20_000, '12 limited jobs');
    for (const w of workers) await w.stop();
    expect(most).toBe(1);
  }, 30_000);

  it('pushes a cron tick without an idempotency key once, into the queue\'s own keys', async () => {
    const app = appOn(`p${randomBytes(3).toString('hex')}`, 8);
    const tick = (jid: string) => app.store.schedulePush({ queue: 'hot', jid, raw: JSON.stringify({ jid, class: 'Plain', queue: 'hot', args: { n: jid } }), nowMs: Date.now(), schedule: 'nightly', tickMs: 1000 });
    expect(await tick('first')).toEqual({ pushed: true, jid: 'first' });
    expect(await tick('takeover')).toEqual({ taken: 'first' });
    const partitions = await app.store.queuePartitions!('hot');
    expect((await Promise.all(partitions.map((q) => app.store.queueSizes(q)))).every((s) => s.ready === 0)).toBe(true);
    expect((await app.store.queueSizes('hot')).ready).toBe(1);
  });

  it('promotes due jobs and recovers expired leases in every partition', async () => {
    const prefix = `p${randomBytes(3).toString('hex')}`;
    const ran: string[] = [];
    const app = appOn(prefix, 8, ran);
    for (let i = 0; i < 40; i++) await plainOf.get(app)!.enqueue({ n: `now${i}` });
    // Leased by a worker that died: 40 jobs from every partition, under a lease of 200 ms.
    const leased = await app.store.jobFetch({ queue: 'hot', count: 100, token: 'dead-worker', leaseMs: 200, nowMs: Date.now() });
    expect(leased).toHaveLength(40);
    for (let i = 0; i < 40; i++) await plainOf.get(app)!.enqueueIn(300, { n: `later${i}` });
    const scheduled = await Promise.all((await app.store.queuePartitions!('hot')).map((q) => app.store.queueSizes(q)));
    expect(scheduled.filter((s) => s.scheduled > 0)).toHaveLength(8);
    await runAll(app, ran, 80);
    expect(new Set(ran).size).toBe(80);
  }, 30_000);
});

describe('partitions on the in-memory store', () => {
  it('accepts the setting and runs the queue as one (one process: nothing to spread)', async () => {
    const ran: string[] = [];
    const app = createLagless({ logger: false, queues: { hot: { partitions: 8 } } });
    apps.push(app);
    const plain = app.defineWorker({ name: 'Plain', queue: 'hot', perform: (args: { n: string }) => void ran.push(args.n) });
    await plain.enqueueMany([{ n: 'a' }, { n: 'b' }]);
    expect((await app.store.queueSizes('hot')).ready).toBe(2);
    await runAll(app, ran, 2);
    expect(() => createLagless({ logger: false, queues: { hot: { partitions: 0 } } })).toThrow(/queues\.hot\.partitions/);
  });
});

async function enqueueMany(app: LaglessApp, n: number, tag = 'j'): Promise<void> {
  await plainOf.get(app)!.enqueueMany(Array.from({ length: n }, (_, i) => ({ n: `${tag}${i}` })));
}
