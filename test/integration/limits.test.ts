import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';

const CONCURRENCY_LIMIT = 4;
const RATE = { max: 20, perMs: 1000 };

interface Start {
  atMs: number;
  jid: string;
  pid: number;
  /** How many jobs of the class were in perform, this one included, when it started. */
  level: number;
}

/** Three worker processes of 3 slots each (and a HANG one for the crash test) against one redis-server this file starts. */
describe('concurrency and rate limits across worker processes', () => {
  let redis: RedisServerHandle;
  let inspect: Redis;
  const children = new Set<ChildProcess>();
  beforeAll(async () => {
    redis = await startRedisServer();
    inspect = new Redis(redis.url);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await inspect.quit();
    await redis.stop();
  });

  function setup() {
    const prefix = `lim${randomBytes(3).toString('hex')}`;
    const queue = 'limited';
    const app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    const conc = app.defineWorker({ name: 'ConcurrencyLimited', queue, concurrencyLimit: CONCURRENCY_LIMIT, perform: () => undefined });
    const rate = app.defineWorker({ name: 'RateLimited', queue, rateLimit: RATE, perform: () => undefined });
    const env = { REDIS_URL: redis.url, PREFIX: prefix, QUEUE: queue, CONCURRENCY_LIMIT: String(CONCURRENCY_LIMIT), RATE_MAX: String(RATE.max), RATE_PER_MS: String(RATE.perMs), JOB_MS: '40', LOCAL_CONCURRENCY: '3' };
    const starts = async (kind: 'conc' | 'rate'): Promise<Start[]> =>
      (await inspect.lrange(`${prefix}:${kind}:starts`, 0, -1)).map((line) => {
        const [atMs, jid, pid, level] = line.split('|');
        return { atMs: Number(atMs), jid: jid!, pid: Number(pid), level: Number(level) };
      });
    return { app, conc, rate, env, queue, starts };
  }

  async function startWorker(env: Record<string, string>): Promise<ChildProcess> {
    const child = fork(new URL('../fixtures/limited-worker.ts', import.meta.url).pathname, [], { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    children.add(child);
    await new Promise((resolve) => child.once('message', resolve));
    return child;
  }

  async function stopWorker(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    children.delete(child);
  }

  async function drained(app: LaglessApp, queue: string): Promise<boolean> {
    const sizes = await app.store.queueSizes(queue);
    const limits = await app.store.limitList({ queue, nowMs: Date.now() });
    return sizes.ready + sizes.inFlight === 0 && limits.every((l) => l.deferred + l.reserved === 0);
  }

  it('never runs more than concurrencyLimit at once, nor more than rateLimit.max starts per window, and stays near both limits', async () => {
    const { app, conc, rate, env, queue, starts } = setup();
    const workers = await Promise.all([1, 2, 3].map(() => startWorker(env)));
    const rateJobs = 70;
    const concJobs = 2 * rateJobs;
    // Interleaved, so both classes compete for the same ready list and the same worker slots.
    for (let i = 0; i < rateJobs; i++) {
      await rate.enqueue({ i });
      await conc.enqueueMany([{ i }, { i }]);
    }
    await waitFor(async () => (await starts('conc')).length === concJobs && (await starts('rate')).length === rateJobs, 60_000, 'every job to start');
    await waitFor(() => drained(app, queue), 10_000, 'the queue to drain');
    await Promise.all(workers.map((child) => stopWorker(child)));

    const concStarts = await starts('conc');
    expect(new Set(concStarts.map((s) => s.jid)).size).toBe(concJobs);
    // No process runs more than 3 jobs at once: a peak of 4 means slots held in two processes at the same time.
    expect(new Set(concStarts.map((s) => s.pid)).size).toBeGreaterThanOrEqual(2);
    const peak = Math.max(...concStarts.map((s) => s.level));
    expect(peak).toBeLessThanOrEqual(CONCURRENCY_LIMIT);
    // Near the limit: 140 jobs of 40 ms over 4 slots take 1.4 s at best.
    const concSpanMs = Math.max(...concStarts.map((s) => s.atMs)) - Math.min(...concStarts.map((s) => s.atMs)) + 40;
    const averageConcurrency = (concJobs * 40) / concSpanMs;
    // Near the limit: the limit was reached, and slots stayed busy well beyond one at a time (0.25 of the limit),
    // however loaded the machine (about 0.65-0.8 of the limit alone here, half of it under a full test run).
    expect(peak).toBe(CONCURRENCY_LIMIT);
    expect(averageConcurrency).toBeGreaterThan(CONCURRENCY_LIMIT * 0.3);

    const rateStarts = (await starts('rate')).map((s) => s.atMs).sort((a, b) => a - b);
    // The store counts a start when it grants it; perform sees it later (the grant's reply, event-loop turns: tens
    // of ms on a loaded machine), so windows over the recorded times are shortened by that slack.
    const slackMs = 100;
    const busiest = Math.max(...rateStarts.map((t) => rateStarts.filter((s) => s >= t && s < t + RATE.perMs - slackMs).length));
    expect(busiest).toBeLessThanOrEqual(RATE.max);
    expect(busiest).toBeGreaterThanOrEqual(RATE.max * 0.75);
    // 70 starts at 20 per second: the first 20 at once, then one window per 20: about 3 s, never much faster.
    const rateSpanMs = rateStarts.at(-1)! - rateStarts[0]!;
    expect(rateSpanMs).toBeGreaterThanOrEqual(3 * RATE.perMs - slackMs);
    expect(rateSpanMs).toBeLessThan(3 * RATE.perMs * 2);
    console.log(`limits: concurrency peak ${peak}/${CONCURRENCY_LIMIT}, average ${averageConcurrency.toFixed(2)}; rate busiest window ${busiest}/${RATE.max}, 70 starts in ${rateSpanMs} ms`);

    expect(await app.store.queueCounters(queue)).toMatchObject({ processed: concJobs + rateJobs, failed: 0 });
    const usage = await app.store.limitList({ queue, nowMs: Date.now() });
    expect(usage.map((u) => u.workerClass)).toEqual(['ConcurrencyLimited', 'RateLimited']);
    expect(usage.every((u) => u.deferredTotal > 0 && u.running === 0)).toBe(true);
    await app.close();
  }, 120_000);

  it("gives a SIGKILLed worker's slots back only when its leases are recovered, and then runs every deferred job", async () => {
    const { app, conc, env, queue, starts } = setup();
    for (let i = 0; i < 12; i++) await conc.enqueue({ i });
    const hanging = await startWorker({ ...env, HANG: '1', LOCAL_CONCURRENCY: '8' });
    await waitFor(async () => (await starts('conc')).length === CONCURRENCY_LIMIT, 20_000, 'the limit to be reached');
    await waitFor(async () => (await app.store.limitList({ queue, nowMs: Date.now() }))[0]?.deferred === 12 - CONCURRENCY_LIMIT, 20_000, 'the rest to be deferred');
    const held = (await starts('conc')).map((s) => s.jid);
    hanging.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((resolve) => hanging.once('exit', resolve));
    children.delete(hanging);

    const survivor = await startWorker({ ...env, LOCAL_CONCURRENCY: '8' });
    await waitFor(async () => new Set((await starts('conc')).map((s) => s.jid)).size === 12, 30_000, 'every job to start');
    await waitFor(() => drained(app, queue), 10_000, 'the queue to drain');
    await stopWorker(survivor);

    const after = (await starts('conc')).filter((s) => s.pid === survivor.pid);
    // The dead worker's leases were renewed until it died and last 2 s: until they expire its slots stay taken.
    expect(Math.min(...after.map((s) => s.atMs))).toBeGreaterThanOrEqual(killedAt + 1000);
    // The jobs it held ran again (at-least-once); every deferred job ran once; never more than the limit at once.
    expect(after.filter((s) => held.includes(s.jid))).toHaveLength(CONCURRENCY_LIMIT);
    expect(after).toHaveLength(12);
    expect(Math.max(...after.map((s) => s.level))).toBeLessThanOrEqual(CONCURRENCY_LIMIT * 2); // the dead worker's 4 never decremented
    expect(Math.max(...after.map((s) => s.level - CONCURRENCY_LIMIT))).toBeLessThanOrEqual(CONCURRENCY_LIMIT);
    expect(await app.store.limitList({ queue, nowMs: Date.now() })).toMatchObject([{ running: 0, deferred: 0, reserved: 0 }]);
    await app.close();
  }, 60_000);
});
