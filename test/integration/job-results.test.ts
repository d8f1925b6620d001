import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, InvalidOptionError, JobNotFoundError, JobWaitTimeoutError, type JobEvent, type LaglessApp, RedisJobStore, type Worker } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const APP = new URL('../fixtures/results-app.ts', import.meta.url).pathname;

// Two processes: this one enqueues, waits and listens; a `lagless worker` process runs the jobs.
describe('job results, progress and events across processes', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  let worker: ChildProcess | undefined;
  const prefix = `res${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await app.close();
    await redis.stop();
  });

  const startWorker = (): void => {
    worker = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--app', APP], { env: { ...process.env, REDIS_URL: redis.url, PREFIX: prefix }, stdio: 'ignore' });
  };
  // The enqueuing side only needs the workers' names and queues, as a web process would.
  const sumOf = (): Worker<{ a: number; b: number; holdMs?: number }> => (sum ??= app.defineWorker({ name: 'Sum', queue: 'results', keepResult: { ttlMs: 60_000 }, perform: () => undefined }));
  let sum: Worker<{ a: number; b: number; holdMs?: number }> | undefined;

  it('waits for a result computed in another process, reports progress while it runs, and delivers events to every listener', async () => {
    const sum = sumOf();
    const flaky = app.defineWorker({ name: 'Flaky', queue: 'results', keepResult: { ttlMs: 60_000 }, perform: () => undefined });
    const plain = app.defineWorker({ name: 'Plain', queue: 'results', perform: () => undefined });
    const events: JobEvent[] = [];
    for (const name of ['completed', 'failed', 'dead'] as const) app.events.on(name, (e) => events.push(e));
    await app.events.ready();

    const quick = await sum.enqueue({ a: 2, b: 3 });
    const slow = await sum.enqueue({ a: 40, b: 2, holdMs: 1500 });
    const failing = await flaky.enqueue({});
    const unkept = await plain.enqueue({});
    expect(await app.jobs.get(quick.jid)).toMatchObject({ jid: quick.jid, queue: 'results', class: 'Sum', state: 'ready', attempts: 0 });
    await expect(app.jobs.wait(unkept.jid, { timeoutMs: 100 })).rejects.toThrow(InvalidOptionError);
    await expect(app.jobs.wait(quick.jid, { timeoutMs: 50 })).rejects.toThrow(JobWaitTimeoutError);

    startWorker();
    const waited = await app.jobs.wait(quick.jid, { timeoutMs: 20_000 });
    expect(waited).toMatchObject({ state: 'completed', result: { sum: 5 }, attempts: 1, class: 'Sum', progress: { step: 'adding' } });
    expect(waited.timestamps.finishedAtMs).toBeGreaterThanOrEqual(waited.timestamps.startedAtMs!);
    expect(waited.timestamps.startedAtMs).toBeGreaterThanOrEqual(waited.timestamps.enqueuedAtMs!);

    await waitFor(async () => (await app.jobs.get(slow.jid, { queue: 'results' }))?.state === 'active', 10_000);
    expect(await app.jobs.get(slow.jid, { queue: 'results' })).toMatchObject({ state: 'active', progress: { step: 'adding' }, attempts: 1 });
    expect(await app.jobs.wait(slow.jid, { timeoutMs: 10_000 })).toMatchObject({ state: 'completed', result: { sum: 42 } });

    const dead = await app.jobs.wait(failing.jid, { timeoutMs: 10_000 });
    expect(dead).toMatchObject({ state: 'dead', attempts: 2, error: { class: 'Error', message: 'always fails' } });
    await waitFor(async () => events.length >= 4, 5000);
    expect(events.map((e) => [e.event, e.jid]).sort()).toEqual(
      [['completed', quick.jid], ['completed', slow.jid], ['failed', failing.jid], ['dead', failing.jid]].sort(),
    );
    expect(events.find((e) => e.jid === quick.jid)).toMatchObject({ queue: 'results', class: 'Sum', attempts: 1, result: { sum: 5 } });
    expect(events.find((e) => e.event === 'dead')).toMatchObject({ attempts: 2, error: { message: 'always fails' } });
    // A job of a worker without keepResult leaves nothing once done, and sends no 'completed' event.
    await waitFor(async () => (await app.store.queueSizes('results')).ready === 0 && (await app.store.queueSizes('results')).inFlight === 0, 5000);
    expect(await app.jobs.get(unkept.jid)).toBeUndefined();
    await expect(app.jobs.wait(unkept.jid, { timeoutMs: 100 })).rejects.toThrow(JobNotFoundError);
    expect(events.some((e) => e.jid === unkept.jid)).toBe(false);
  }, 60_000);

  it('sends events to a second app process too (pub/sub, not a stream kept in Redis)', async () => {
    const other = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    try {
      const seen: JobEvent[] = [];
      other.events.on('completed', (e) => seen.push(e));
      await other.events.ready();
      const job = await sumOf().enqueue({ a: 1, b: 1 });
      await waitFor(async () => seen.some((e) => e.jid === job.jid), 10_000);
      expect(seen.find((e) => e.jid === job.jid)).toMatchObject({ result: { sum: 2 } });
      expect(await (app.store as RedisJobStore).client.keys(`${prefix}:*events*`)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 30_000);
});

describe('job results with the in-memory store', () => {
  it('ctx works destructured: progress, db, snooze and the getters need no `this`', async () => {
    const app = createLagless({ logger: false });
    try {
      const seen: unknown[] = [];
      const Parts = app.defineWorker({
        name: 'Parts',
        keepResult: { ttlMs: 60_000 },
        perform: async (_args: object, { jid, job, signal, logger, progress, db, snooze }) => {
          await progress('half');
          seen.push(jid === job.jid, signal.aborted, typeof logger.info, snooze(5).delayMs);
          try {
            db('main');
          } catch (error) {
            seen.push((error as Error).name);
          }
          return 'ok';
        },
      });
      const { jid } = await Parts.enqueue({});
      await app.worker({ queues: ['default'] }).start();
      expect(await app.jobs.wait(jid, { timeoutMs: 5000 })).toMatchObject({ state: 'completed', result: 'ok', progress: 'half' });
      expect(seen).toEqual([true, false, 'function', 5, 'UnknownDatabaseError']);
    } finally {
      await app.close();
    }
  });

  it('keeps results, reports progress and emits events in one process; bad keepResult and progress values are refused', async () => {
    const app = createLagless({ logger: false });
    try {
      expect(() => app.defineWorker({ name: 'Bad', keepResult: { ttlMs: 0 }, perform: () => 1 })).toThrow(/keepResult.ttlMs/);
      const progressErrors: string[] = [];
      const Double = app.defineWorker({
        name: 'Double',
        keepResult: { ttlMs: 60_000 },
        perform: async (n: number, ctx) => {
          await ctx.progress(50);
          await ctx.progress(() => 1).catch((error: Error) => progressErrors.push(error.message));
          return n * 2;
        },
      });
      const completed: JobEvent[] = [];
      app.events.on('completed', (e) => completed.push(e));
      const { jid } = await Double.enqueue(21);
      const worker = app.worker({ queues: ['default'] });
      await worker.start();
      expect(await app.jobs.wait(jid, { timeoutMs: 5000 })).toMatchObject({ state: 'completed', result: 42, progress: 50, attempts: 1 });
      await waitFor(async () => completed.length === 1, 2000);
      expect(completed[0]).toMatchObject({ jid, result: 42 });
      expect(progressErrors).toEqual([expect.stringMatching(/ctx.progress\(value\) in 'Double' needs a JSON value/)]);
    } finally {
      await app.close();
    }
  });
});
