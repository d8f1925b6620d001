import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';
import { bothStores } from '../helpers/stores.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

describe.each(bothStores(() => redis))('queue priorities on the %s store', (_name, redisConfig) => {
  const tag = (): string => randomBytes(3).toString('hex');

  /** One worker class per queue, each recording the queue of every job it starts, in start order. */
  function setup(queues: string[]): { app: LaglessApp; started: string[]; enqueue: (queue: string, n: number) => Promise<void> } {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const started: string[] = [];
    const workers = new Map(queues.map((queue) => [queue, app.defineWorker({ name: `W${queue}`, queue, perform: async () => void started.push(queue) })]));
    const enqueue = async (queue: string, n: number): Promise<void> => void (await workers.get(queue)!.enqueueMany(Array.from({ length: n }, (_, i) => ({ i }))));
    return { app, started, enqueue };
  }

  it('weighted: under load each queue gets its share of the jobs started, within a tolerance', async () => {
    const [critical, normal, low] = [`critical${tag()}`, `default${tag()}`, `low${tag()}`];
    const { app, started, enqueue } = setup([critical, normal, low]);
    for (const queue of [critical, normal, low]) await enqueue(queue, 1500);
    // Every queue stays busy for the first 800 starts (critical's expected share of them is 500 of its 1500).
    await app.worker({ queues: [[critical, 5], [normal, 2], [low, 1]], concurrency: 2, prefetch: 0 }).start();
    await waitFor(() => started.length >= 800, 20_000);
    await app.close();
    const first = started.slice(0, 800);
    const share = (queue: string): number => first.filter((q) => q === queue).length / first.length;
    // Expected 0.625 / 0.25 / 0.125; a binomial standard deviation is under 0.02 here.
    expect(share(critical)).toBeGreaterThan(0.625 - 0.08);
    expect(share(critical)).toBeLessThan(0.625 + 0.08);
    expect(share(normal)).toBeGreaterThan(0.25 - 0.07);
    expect(share(normal)).toBeLessThan(0.25 + 0.07);
    expect(share(low)).toBeGreaterThan(0.125 - 0.06);
    expect(share(low)).toBeLessThan(0.125 + 0.06);
  });

  it('strict: a job of the first queue starts before more than `concurrency` jobs of later queues do, however busy they are', async () => {
    const first = `first${tag()}`;
    const later = Array.from({ length: 9 }, (_, i) => `later${i}${tag()}`);
    const { app, started, enqueue } = setup([first, ...later]);
    for (const queue of later) await enqueue(queue, 400);
    const concurrency = 2;
    await app.worker({ queues: [first, ...later], strict: true, concurrency, prefetch: 0 }).start();
    await waitFor(() => started.length >= 20);
    let worst = 0;
    for (let round = 0; round < 25; round++) {
      const before = started.length;
      await enqueue(first, 1);
      await waitFor(() => started.lastIndexOf(first) >= before);
      // Later-queue jobs that started between the push and the first queue's job: only those of a fetch in flight.
      worst = Math.max(worst, started.lastIndexOf(first) - before);
    }
    await app.close();
    expect(worst).toBeLessThanOrEqual(concurrency);
    expect(started.filter((q) => q === first)).toHaveLength(25);
  });

  it('strict: later queues run while the first is empty', async () => {
    const [first, second] = [`first${tag()}`, `second${tag()}`];
    const { app, started, enqueue } = setup([first, second]);
    await enqueue(second, 5);
    await app.worker({ queues: [first, second], strict: true, concurrency: 1 }).start();
    await waitFor(() => started.length === 5);
    await app.close();
    expect(started).toEqual(Array(5).fill(second));
  });
});
