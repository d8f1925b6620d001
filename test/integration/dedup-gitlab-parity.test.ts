import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { bothStores } from '../helpers/stores.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';

// Behaviours of GitLab's Sidekiq DuplicateJobs that lagless mirrors (issue 14, points 1–3), on both job stores.

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

describe.each(bothStores(() => redis))('GitLab dedup parity on the %s store', (_name, redisConfig) => {
  function setup(): { app: LaglessApp; lines: Record<string, unknown>[]; queue: string } {
    const { logger, lines } = captureLogs();
    return { app: createLagless({ redis: redisConfig(), logger }), lines, queue: `q${randomBytes(3).toString('hex')}` };
  }

  it('GitLab: deduplicates an enqueueIn(0) twin like a ready job', async () => {
    const { app, queue } = setup();
    const W = app.defineWorker({ name: 'DueNowWorker', queue, idempotent: true, perform: () => undefined });
    const owner = await W.enqueue({ id: 1 });
    expect(await W.enqueueIn(0, { id: 1 })).toEqual({ jid: expect.any(String), deduplicated: true, duplicateOf: owner.jid });
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 1, scheduled: 0 });
    await app.close();
  });

  it('GitLab: deduplicates an enqueueAt(<a past date>) twin like a ready job, and a ready owner made by it absorbs enqueue()', async () => {
    const { app, queue } = setup();
    const W = app.defineWorker({ name: 'PastDateWorker', queue, idempotent: true, perform: () => undefined });
    const owner = await W.enqueue({ id: 1 });
    expect(await W.enqueueAt(new Date(Date.now() - 60_000), { id: 1 })).toMatchObject({ deduplicated: true, duplicateOf: owner.jid });
    const pastOwner = await W.enqueueAt(new Date(0), { id: 2 });
    expect(pastOwner.deduplicated).toBe(false);
    expect(await W.enqueue({ id: 2 })).toMatchObject({ deduplicated: true, duplicateOf: pastOwner.jid });
    // A time in the future is still a scheduled job, left alone without includingScheduled.
    expect((await W.enqueueIn(60_000, { id: 1 })).deduplicated).toBe(false);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 2, scheduled: 1 });
    await app.close();
  });

  it("GitLab: logs the worker's deduplication options as deduplication.options.* on the deduplicated line", async () => {
    const { app, lines, queue } = setup();
    const W = app.defineWorker({
      name: 'OptionsLoggedWorker',
      queue,
      idempotent: true,
      deduplicate: { strategy: 'until_executed', ifDeduplicated: 'reschedule_once', includingScheduled: true, ttlMs: 90_000 },
      perform: () => undefined,
    });
    const Plain = app.defineWorker({ name: 'DefaultOptionsWorker', queue, idempotent: true, perform: () => undefined });
    await W.enqueue({ id: 1 });
    await W.enqueue({ id: 1 });
    await Plain.enqueue({ id: 1 });
    await Plain.enqueue({ id: 1 });
    const [full, defaults] = lines.filter((l) => l.job_status === 'deduplicated');
    expect(full).toMatchObject({
      class: 'OptionsLoggedWorker',
      'deduplication.type': 'dropped',
      'deduplication.options.strategy': 'until_executed',
      'deduplication.options.if_deduplicated': 'reschedule_once',
      'deduplication.options.including_scheduled': true,
      'deduplication.options.ttl': 90,
    });
    expect(defaults).toMatchObject({ 'deduplication.options.strategy': 'until_executing', 'deduplication.options.including_scheduled': false, 'deduplication.options.ttl': 21_600 });
    expect(defaults).not.toHaveProperty('deduplication.options.if_deduplicated');
    await app.close();
  });

  /** An until_executed worker whose first run fails for good while a twin is absorbed. */
  async function dyingOwner(ifDeduplicated?: 'reschedule_once') {
    const { app, lines, queue } = setup();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const runs: { jid: string; rescheduled?: boolean }[] = [];
    const W = app.defineWorker({
      name: ifDeduplicated ? 'DyingRescheduledWorker' : 'DyingWorker',
      queue,
      idempotent: true,
      retry: false,
      deduplicate: { strategy: 'until_executed', ...(ifDeduplicated ? { ifDeduplicated } : {}) },
      perform: async (_args: { id: number }, ctx) => {
        runs.push({ jid: ctx.jid, rescheduled: ctx.job.rescheduled_once });
        if (runs.length > 1) return;
        await released;
        throw new Error('owner fails for good');
      },
    });
    const owner = await W.enqueue({ id: 1 });
    await app.worker({ queues: [queue] }).start();
    await waitFor(() => runs.length === 1);
    expect(await W.enqueue({ id: 1 })).toMatchObject({ deduplicated: true, duplicateOf: owner.jid });
    release();
    await waitFor(() => lines.some((l) => l.job_status === 'fail'));
    return { app, lines, queue, owner, runs };
  }

  it('GitLab: a dying until_executed owner does not lose the work it absorbed; the dead line says so', async () => {
    const { app, lines, queue, owner } = await dyingOwner();
    expect(lines.find((l) => l.job_status === 'fail')).toMatchObject({ jid: owner.jid, dead: true, dedup_absorbed: 1, msg: expect.stringMatching(/1 duplicate\(s\) it had absorbed will not run/) });
    expect(await app.store.queueSizes(queue)).toMatchObject({ dead: 1, ready: 0, dedupKeys: 0 });
    await app.close();
  });

  it('GitLab: a dying until_executed owner with reschedule_once is enqueued once more for the twins it absorbed', async () => {
    const { app, lines, owner, runs } = await dyingOwner('reschedule_once');
    await waitFor(() => runs.length === 2);
    await app.close();
    const fail = lines.find((l) => l.job_status === 'fail')!;
    expect(fail).toMatchObject({ jid: owner.jid, dead: true, dedup_absorbed: 1, rescheduled_jid: runs[1]!.jid });
    expect(runs[1]).toEqual({ jid: expect.any(String), rescheduled: true });
    expect(lines.filter((l) => l.job_status === 'rescheduled')).toEqual([expect.objectContaining({ jid: owner.jid, rescheduled_jid: runs[1]!.jid })]);
    expect(await app.metrics.metrics()).toMatch(/lagless_jobs_rescheduled_total\{queue="\w+",worker="DyingRescheduledWorker"\} 1/);
  });
});
