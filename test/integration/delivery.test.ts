import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';

describe('at-least-once delivery', () => {
  let redis: RedisServerHandle;
  beforeAll(async () => (redis = await startRedisServer()));
  afterAll(async () => redis.stop());

  function startWorkerProcess(env: Record<string, string>) {
    const child = fork(new URL('../fixtures/crash-worker.ts', import.meta.url).pathname, [], { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    return { child, started: new Promise((resolve) => child.once('message', resolve)) };
  }

  it('re-runs only the jobs in flight when a worker process is killed with SIGKILL', async () => {
    const prefix = `crash${randomBytes(3).toString('hex')}`;
    const queue = 'crashq';
    const env = { REDIS_URL: redis.url, PREFIX: prefix, QUEUE: queue };
    const app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    const W = app.defineWorker({ name: 'CrashTestWorker', queue, perform: () => undefined });
    const jids = new Set<string>();
    for (let i = 0; i < 5000; i += 1000) {
      for (const r of await W.enqueueMany(Array.from({ length: 1000 }, (_, j) => ({ i: i + j })))) jids.add(r.jid);
    }
    const inspect = new Redis(redis.url);
    const runs = async () => inspect.lrange(`${prefix}:runs`, 0, -1);

    const first = startWorkerProcess(env);
    await first.started;
    await waitFor(async () => (await inspect.llen(`${prefix}:runs`)) >= 1500, 30_000, '1,500 runs');
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const inFlightAtKill = new Set(await inspect.hkeys(`${prefix}:{${queue}}:active`));
    const ranBeforeKill = new Set(await runs());
    expect(inFlightAtKill.size).toBeGreaterThan(0);
    // Leased at the kill: up to 10 performing (concurrency) and 20 fetched ahead (prefetch defaults to twice that).
    expect(inFlightAtKill.size).toBeLessThanOrEqual(30);

    const second = startWorkerProcess(env);
    await second.started;
    await waitFor(async () => {
      const sizes = await app.store.queueSizes(queue);
      return sizes.ready === 0 && sizes.inFlight === 0 && new Set(await runs()).size === jids.size;
    }, 60_000, 'all jobs to run');
    second.child.kill('SIGTERM');

    const counts = new Map<string, number>();
    for (const jid of await runs()) counts.set(jid, (counts.get(jid) ?? 0) + 1);
    expect([...jids].every((jid) => counts.has(jid))).toBe(true);
    const twice = [...counts].filter(([, n]) => n > 1).map(([jid]) => jid);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
    // Jobs that had started when the process died ran again after their lease expired; nothing else did.
    for (const jid of inFlightAtKill) if (ranBeforeKill.has(jid)) expect(counts.get(jid)).toBe(2);
    expect(twice.every((jid) => inFlightAtKill.has(jid))).toBe(true);
    await inspect.quit();
    await app.close();
  }, 120_000);
});

describe('Redis goes away and comes back', () => {
  it('reconnects workers and enqueuers with backoff, loses nothing enqueued, and says so in the log', async () => {
    const redis = await startRedisServer({ durable: true });
    const { logger, lines } = captureLogs();
    const app = createLagless({ redis: { url: redis.url, prefix: 'restart' }, logger });
    const ran = new Set<number>();
    const W = app.defineWorker({
      name: 'RestartWorker',
      perform: async (args: { i: number }) => {
        ran.add(args.i);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    await W.enqueueMany(Array.from({ length: 300 }, (_, i) => ({ i })));
    await app.worker({ queues: ['default'], concurrency: 5, leaseMs: 1000, maintenanceIntervalMs: 100 }).start();
    await waitFor(() => ran.size >= 50);
    await redis.kill();
    const duringOutage = Promise.all(Array.from({ length: 20 }, (_, k) => W.enqueue({ i: 300 + k })));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await redis.start();
    await duringOutage;
    await waitFor(() => ran.size === 320, 30_000, 'every job, including those enqueued during the outage');
    await app.close();
    await redis.stop();
    expect(lines.some((l) => l.event === 'redis_connection_lost')).toBe(true);
    expect(lines.some((l) => l.event === 'redis_connection_restored')).toBe(true);
  }, 60_000);
});
