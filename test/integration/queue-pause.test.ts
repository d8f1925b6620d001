import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';

describe('pausing a queue across worker processes', () => {
  let redis: RedisServerHandle;
  beforeAll(async () => (redis = await startRedisServer()));
  afterAll(async () => redis.stop());

  it('every process stops fetching the paused queue within a second, the other queue runs on, enqueues are accepted, and resume drains it', async () => {
    const prefix = `pause${randomBytes(3).toString('hex')}`;
    const [paused, other] = ['billing', 'mail'];
    const env = { ...process.env, REDIS_URL: redis.url, PREFIX: prefix, QUEUES: `${paused},${other}` };
    const children = Array.from({ length: 3 }, () => fork(new URL('../fixtures/pause-worker.ts', import.meta.url).pathname, [], { env, execArgv: ['--import', 'tsx'], stdio: 'inherit' }));
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
    const app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    const workers = [paused, other].map((queue) => app.defineWorker({ name: `Pause_${queue}`, queue, perform: () => undefined }));
    const inspect = new Redis(redis.url);
    const starts = async (): Promise<{ queue: string; at: number }[]> =>
      (await inspect.lrange(`${prefix}:starts`, 0, -1)).map((line) => {
        const [queue, at] = line.split(' ');
        return { queue: queue!, at: Number(at) };
      });

    // A steady stream into both queues for the whole test.
    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        for (const worker of workers) await worker.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ i })));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await waitFor(async () => (await starts()).filter((s) => s.queue === paused).length >= 100, 20_000, 'jobs of the queue to pause running');
      expect(await app.queues.pause(paused)).toBe(true);
      const pausedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const seen = await starts();
      const late = seen.filter((s) => s.queue === paused && s.at > pausedAt + 1000);
      expect(late).toEqual([]);
      expect(seen.filter((s) => s.queue === other && s.at > pausedAt + 1000).length).toBeGreaterThan(20);
      const waiting = (await app.store.queueSizes(paused)).ready;
      expect(waiting).toBeGreaterThan(50);
      expect(await app.store.queuePausedAt([paused])).toEqual([expect.any(Number)]);

      feeding = false;
      await feed;
      expect(await app.queues.resume(paused)).toBe(true);
      await waitFor(async () => (await app.store.queueSizes(paused)).ready === 0, 20_000, 'the resumed queue to drain');
    } finally {
      feeding = false;
      await feed;
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
      inspect.disconnect();
      await app.close();
    }
  }, 60_000);

  it('pause and resume on the memory store: the worker stops and goes on', async () => {
    const app = createLagless({ logger: false });
    let ran = 0;
    const W = app.defineWorker({ name: 'M', queue: 'm', perform: () => void ran++ });
    await app.worker({ queues: ['m'], concurrency: 2 }).start();
    await app.queues.pause('m');
    await W.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ i })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ran).toBe(0);
    expect(await app.queues.paused()).toEqual([{ queue: 'm', pausedAt: expect.any(Number) }]);
    await app.queues.resume('m');
    await waitFor(() => ran === 10);
    await expect(app.queues.pause('bad name')).rejects.toThrow(/Queue name must be 1-100 letters/);
    await app.close();
  });
});
