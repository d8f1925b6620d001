import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, InvalidOptionError, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { bothStores } from '../helpers/stores.js';
import { waitFor } from '../helpers/log-capture.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

/** Count the limit calls a worker makes on its store (the real store; the calls go through unchanged). */
function countLimitCalls(app: LaglessApp): Record<'limitAcquire' | 'limitRelease' | 'limitList', number> {
  const counts = { limitAcquire: 0, limitRelease: 0, limitList: 0 };
  const store = app.store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of Object.keys(counts) as (keyof typeof counts)[]) {
    const original = store[name]!.bind(app.store);
    store[name] = (...args: unknown[]) => {
      counts[name]++;
      return original(...args);
    };
  }
  return counts;
}

describe.each(bothStores(() => redis))('limits in the worker runtime on the %s store', (_name, redisConfig) => {
  const queue = (): string => `q${randomBytes(3).toString('hex')}`;

  it('wakes up exactly when the rate limit lets the next deferred job start: no polling, no sweep needed', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const q = queue();
    const startedAt: number[] = [];
    const W = app.defineWorker({ name: 'Paced', queue: q, rateLimit: { max: 2, perMs: 400 }, perform: () => void startedAt.push(Date.now()) });
    const calls = countLimitCalls(app);
    // The safety-net sweep runs once a minute here: only the store-named wake-ups can move deferred jobs on.
    await app.worker({ queues: [q], concurrency: 4, maintenanceIntervalMs: 60_000 }).start();
    await W.enqueueMany([1, 2, 3, 4, 5, 6].map((i) => ({ i })));
    await waitFor(() => startedAt.length === 6, 5_000, 'six starts');
    const t0 = startedAt[0]!;
    const offsets = startedAt.map((t) => t - t0);
    // Two per 400 ms window: the third and fourth start when the first starts leave the window, and so on. The store
    // counts a start when it grants it; perform records it a little later, hence 50 ms of slack below.
    expect(offsets.slice(2, 4).every((ms) => ms >= 350 && ms < 700), `offsets ${offsets.join(', ')}`).toBe(true);
    expect(offsets.slice(4).every((ms) => ms >= 750 && ms < 1300), `offsets ${offsets.join(', ')}`).toBe(true);
    // Each job is checked once when fetched and, if parked, once more when its turn came: never re-parked in a loop.
    expect(calls.limitAcquire).toBeLessThanOrEqual(10);
    expect(calls.limitList).toBe(0);
    // No release per finished job (a rate limit holds no slot): a wake-up per window that freed starts, and on a
    // loaded machine, where a window's starts are granted milliseconds apart and free one at a time, up to one per
    // deferred job (4) and one more per window; polling would make dozens.
    expect(calls.limitRelease).toBeGreaterThanOrEqual(2);
    expect(calls.limitRelease).toBeLessThanOrEqual(6);
    await app.close();
  });

  it('holds jobs over the concurrency limit without using an attempt, and runs them in order as slots free', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const q = queue();
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    const W = app.defineWorker({
      name: 'Single',
      queue: q,
      concurrencyLimit: 1,
      retry: { max: 0 },
      perform: async (args: { i: number }, ctx) => {
        expect(ctx.job.retry_count ?? 0).toBe(0);
        peak = Math.max(peak, ++running);
        order.push(args.i);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
      },
    });
    for (let i = 0; i < 8; i++) await W.enqueue({ i });
    await app.worker({ queues: [q], concurrency: 8 }).start();
    await waitFor(() => order.length === 8, 5_000, 'eight runs');
    expect(peak).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await app.store.queueSizes(q)).toMatchObject({ retry: 0, dead: 0 });
    await app.close();
  });
});

describe('limit options', () => {
  it('rejects limits that cannot work with a typed error naming the option', () => {
    const app = createLagless({ logger: false });
    const define = (options: Record<string, unknown>) => () => app.defineWorker({ name: `W${randomBytes(2).toString('hex')}`, perform: () => undefined, ...options });
    expect(define({ concurrencyLimit: 0 })).toThrow(InvalidOptionError);
    expect(define({ concurrencyLimit: 2.5 })).toThrow(/Invalid worker option concurrencyLimit for 'W\w+': use a whole number of jobs/);
    expect(define({ rateLimit: { max: 10 } })).toThrow(/Invalid worker option rateLimit\.perMs/);
    expect(define({ rateLimit: { max: 10, perMs: 1000, burst: 2 } })).toThrow(/Invalid worker option rateLimit/);
    expect(define({ concurrencyLimit: 3, rateLimit: { max: 10, perMs: 1000 } })).not.toThrow();
  });
});
