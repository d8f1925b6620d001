import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { bothStores } from '../helpers/stores.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

const stores = bothStores(() => redis);

/** A perform that blocks until released, so tests can act while the job runs. */
function gate() {
  let release!: () => void;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return { running, release, enter: async () => (started(), released) };
}

describe.each(stores)('deduplication on the %s store', (_name, redisConfig) => {
  function setup(): { app: LaglessApp; lines: Record<string, unknown>[]; queue: string } {
    const { logger, lines } = captureLogs();
    return { app: createLagless({ redis: redisConfig(), logger }), lines, queue: `q${randomBytes(3).toString('hex')}` };
  }

  it('until_executing: absorbs twins while queued, logs and counts them; a twin enqueued while the job runs makes a new job', async () => {
    const { app, lines, queue } = setup();
    const g = gate();
    const runs: string[] = [];
    const Refresh = app.defineWorker({
      name: 'UserRefreshOverUserRangeWorker',
      queue,
      idempotent: true,
      idempotencyArgs: (args: { userId: number; reason: string }) => ({ userId: args.userId }),
      perform: async (_args, ctx) => {
        runs.push(ctx.jid);
        if (runs.length === 1) await g.enter();
      },
    });
    const owner = await Refresh.enqueue({ userId: 7, reason: 'a' });
    const twin = await Refresh.enqueue({ reason: 'b', userId: 7 });
    expect(owner.deduplicated).toBe(false);
    expect(twin).toEqual({ jid: expect.any(String), deduplicated: true, duplicateOf: owner.jid });
    expect((await Refresh.enqueue({ userId: 8, reason: 'a' })).deduplicated).toBe(false);
    const line = lines.find((l) => l.job_status === 'deduplicated')!;
    expect(line).toMatchObject({ class: 'UserRefreshOverUserRangeWorker', jid: twin.jid, 'duplicate-of': owner.jid, 'deduplication.type': 'dropped', idempotency_key: expect.stringMatching(/^[\w-]{43}$/) });
    expect(await app.metrics.metrics()).toMatch(/lagless_jobs_deduplicated_total\{queue="\w+",worker="UserRefreshOverUserRangeWorker",strategy="until_executing"\} 1/);

    await app.worker({ queues: [queue], concurrency: 2 }).start();
    await g.running;
    const during = await Refresh.enqueue({ userId: 7, reason: 'c' });
    expect(during.deduplicated).toBe(false);
    g.release();
    await waitFor(() => runs.length === 3);
    await app.close();
    expect(runs).toContain(during.jid);
  });

  it('until_executed + reschedule_once: a twin absorbed while running causes exactly one more run, marked rescheduled_once', async () => {
    const { app, lines, queue } = setup();
    const g = gate();
    const jobs: { jid: string; rescheduled?: boolean }[] = [];
    const W = app.defineWorker({
      name: 'ExecutedWorker',
      queue,
      idempotent: true,
      deduplicate: { strategy: 'until_executed', ifDeduplicated: 'reschedule_once' },
      perform: async (_args: { id: number }, ctx) => {
        jobs.push({ jid: ctx.jid, rescheduled: ctx.job.rescheduled_once });
        if (jobs.length === 1) await g.enter();
      },
    });
    const owner = await W.enqueue({ id: 1 });
    await app.worker({ queues: [queue] }).start();
    await g.running;
    for (let i = 0; i < 3; i++) expect(await W.enqueue({ id: 1 })).toMatchObject({ deduplicated: true, duplicateOf: owner.jid });
    g.release();
    await waitFor(() => jobs.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await app.close();
    expect(jobs).toEqual([{ jid: owner.jid, rescheduled: undefined }, { jid: expect.any(String), rescheduled: true }]);
    expect(lines.filter((l) => l.job_status === 'rescheduled')).toHaveLength(1);
    expect(await app.metrics.metrics()).toMatch(/lagless_jobs_rescheduled_total\{queue="\w+",worker="ExecutedWorker"\} 1/);
  });

  it('until_executed: exhausting retries releases the key', async () => {
    const { app, queue } = setup();
    const g = gate();
    let runs = 0;
    const W = app.defineWorker({
      name: 'FailingExecutedWorker',
      queue,
      idempotent: true,
      retry: false,
      deduplicate: { strategy: 'until_executed' },
      perform: async () => {
        runs++;
        await g.enter();
        throw new Error('nope');
      },
    });
    await W.enqueue({ id: 1 });
    await app.worker({ queues: [queue] }).start();
    await g.running;
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(true);
    g.release();
    await waitFor(async () => (await app.store.queueSizes(queue)).dead === 1);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 0, dedupKeys: 0 });
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(false);
    await app.close();
    expect(runs).toBeGreaterThanOrEqual(1);
  });

  it('pushes twins of a non-idempotent worker with duplicate-of, and runs both', async () => {
    const { app, lines, queue } = setup();
    const W = app.defineWorker({ name: 'NotIdempotentWorker', queue, deduplicate: { strategy: 'until_executing' }, perform: () => undefined });
    const first = await W.enqueue({ a: 1 });
    const second = await W.enqueue({ a: 1 });
    expect(second).toEqual({ jid: expect.any(String), deduplicated: false, duplicateOf: first.jid });
    await app.worker({ queues: [queue] }).start();
    await waitFor(() => lines.filter((l) => l.job_status === 'done').length === 2);
    await app.close();
    expect(lines.find((l) => l.job_status === 'done' && l.jid === second.jid)).toMatchObject({ 'duplicate-of': first.jid });
  });

  it('leaves scheduled jobs alone unless includingScheduled, which keeps the key for the delay plus ttlMs', async () => {
    const { app, queue } = setup();
    const Plain = app.defineWorker({ name: 'PlainScheduled', queue, idempotent: true, perform: () => undefined });
    const Incl = app.defineWorker({ name: 'InclScheduled', queue, idempotent: true, deduplicate: { includingScheduled: true, ttlMs: 1000 }, perform: () => undefined });
    expect((await Plain.enqueueIn(60_000, { x: 1 })).deduplicated).toBe(false);
    expect((await Plain.enqueueIn(60_000, { x: 1 })).deduplicated).toBe(false);
    const owner = await Incl.enqueueIn(60_000, { x: 1 });
    expect(await Incl.enqueueIn(60_000, { x: 1 })).toMatchObject({ deduplicated: true, duplicateOf: owner.jid });
    const { idempotencyKey } = await import('../../src/dedup/idempotency-key.js');
    const cookie = await app.store.dedupShow({ queue, key: idempotencyKey('InclScheduled', { x: 1 }), nowMs: Date.now() });
    expect(cookie!.ttlMs).toBeGreaterThan(60_500);
    expect(cookie!.ttlMs).toBeLessThanOrEqual(61_000);
    await app.close();
  });

  it('rejects idempotencyArgs that return something JSON cannot hold, pushing nothing', async () => {
    const { app, queue } = setup();
    const W = app.defineWorker({ name: 'BadPickWorker', queue, idempotent: true, idempotencyArgs: () => ({ when: new Date() }), perform: () => undefined });
    await expect(W.enqueue({})).rejects.toMatchObject({ code: 'INVALID_ARGS', message: /idempotencyArgs returned a value JSON cannot hold/ });
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 0, dedupKeys: 0 });
    // A batch is all or nothing: one refused job means none of the batch is pushed.
    const Picky = app.defineWorker({ name: 'PickyBatchWorker', queue, idempotent: true, idempotencyArgs: (args: { n: number }) => (args.n === 2 ? { bad: Symbol('x') } : args), perform: () => undefined });
    await expect(Picky.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }])).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 0, dedupKeys: 0 });
    await app.close();
  });
});

describe('deduplication races and cleanup on Redis', () => {
  it('creates exactly one job from 200 concurrent identical enqueues over several connections', async () => {
    const prefix = `race${randomBytes(3).toString('hex')}`;
    const apps = Array.from({ length: 4 }, () => createLagless({ redis: { url: redis.url, prefix }, logger: false }));
    const workers = apps.map((app) => app.defineWorker({ name: 'RaceWorker', idempotent: true, perform: () => undefined }));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => workers[i % 4]!.enqueue({ user: 1 })));
    expect(results.filter((r) => !r.deduplicated)).toHaveLength(1);
    const owner = results.find((r) => !r.deduplicated)!.jid;
    expect(results.every((r) => r.jid === owner || r.duplicateOf === owner)).toBe(true);
    expect(await apps[0]!.store.queueSizes('default')).toMatchObject({ ready: 1, dedupKeys: 1 });
    await Promise.all(apps.map((app) => app.close()));
  });

  it('never lets a twin slip between reading the WAL and releasing the key (until_executing under concurrent fetch)', async () => {
    const prefix = `slip${randomBytes(3).toString('hex')}`;
    const app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    const starts = new Map<number, number[]>();
    const W = app.defineWorker({ name: 'SlipWorker', idempotent: true, perform: (args: { k: number }) => void starts.set(args.k, [...(starts.get(args.k) ?? []), performance.now()]) });
    await app.worker({ queues: ['default'], concurrency: 20 }).start();
    // An absorbed enqueue must be covered by a run that starts after it was sent: the cookie is released in the
    // same step that hands the job out, so no twin can be absorbed by a job that has already started.
    const lastSent = new Map<number, number>();
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => (lastSent.set(k, performance.now()), W.enqueue({ k }))));
    }
    await waitFor(async () => (await app.store.queueSizes('default')).ready === 0 && (await app.store.queueSizes('default')).inFlight === 0);
    expect(await app.store.queueSizes('default')).toMatchObject({ dedupKeys: 0 });
    const uncovered = [...lastSent].filter(([k, sent]) => !(starts.get(k) ?? []).some((start) => start >= sent));
    expect(uncovered).toEqual([]);
    await app.close();
  });

  it('releases a key whose job vanished (flushed queue) on the next maintenance pass, so a new enqueue runs', async () => {
    const prefix = `reap${randomBytes(3).toString('hex')}`;
    const app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    let runs = 0;
    const W = app.defineWorker({ name: 'ReapWorker', idempotent: true, deduplicate: { strategy: 'until_executed' }, perform: () => void runs++ });
    await W.enqueue({ id: 1 });
    const raw = new Redis(redis.url);
    await raw.del(`${prefix}:{default}:ready`);
    await raw.quit();
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(true);
    await app.worker({ queues: ['default'], maintenanceIntervalMs: 20, dedupReapIntervalMs: 50 }).start();
    await waitFor(async () => (await app.store.queueSizes('default')).dedupKeys === 0);
    expect((await W.enqueue({ id: 1 })).deduplicated).toBe(false);
    await waitFor(() => runs === 1);
    await app.close();
  });
});
