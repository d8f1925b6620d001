import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { bothStores } from '../helpers/stores.js';
import { waitFor } from '../helpers/log-capture.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

describe.each(bothStores(() => redis))('limits and queue pause in the worker runtime on the %s store', (_name, redisConfig) => {
  it('a slot freed on a paused queue starts no deferred job; resume lets them run', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const q = `q${randomBytes(3).toString('hex')}`;
    const started: number[] = [];
    let finishFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (finishFirst = resolve));
    const W = app.defineWorker({
      name: 'OneAtATime',
      queue: q,
      concurrencyLimit: 1,
      perform: async (args: { i: number }) => {
        started.push(args.i);
        if (args.i === 0) await firstMayFinish;
      },
    });
    for (let i = 0; i < 3; i++) await W.enqueue({ i });
    await app.worker({ queues: [q], concurrency: 4 }).start();
    await waitFor(async () => started.length === 1 && (await app.store.queueSizes(q)).deferred === 2, 5_000, 'one running, two deferred');
    await app.queues.pause(q, 'test');
    finishFirst();
    await waitFor(async () => (await app.store.queueSizes(q)).inFlight === 0, 5_000, 'the first job settled');
    // Long enough for a hand-over or a fetch to have started the next one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(started).toEqual([0]);
    await app.queues.resume(q, 'test');
    await waitFor(() => started.length === 3, 5_000, 'the deferred jobs to run after resume');
    expect(started).toEqual([0, 1, 2]);
    await app.close();
  });
});
