import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

const SPEED = 10;

interface Enqueued {
  process: number;
  tick: number;
  jid: string;
}

describe('cron schedules with 3 processes racing on one Redis', () => {
  it('enqueues every tick exactly once, through a SIGKILL and a restart of one process', async () => {
    const prefix = `race${randomBytes(3).toString('hex')}`;
    const queue = 'cronq';
    const startMs = Date.now();
    const env = { REDIS_URL: redis.url, PREFIX: prefix, QUEUE: queue, START_MS: String(startMs), BASE_MS: String(Date.parse('2026-03-02T10:00:00.500Z')), SPEED: String(SPEED) };
    const enqueued: Enqueued[] = [];
    const children: ChildProcess[] = [];
    let killedAtVirtualMs: number | undefined;
    const spawn = async (id: number): Promise<ChildProcess> => {
      const child = fork(new URL('../fixtures/cron-racer.ts', import.meta.url).pathname, [], { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; tick_ms?: number; jid?: string };
        if (entry.msg === 'cron tick enqueued') enqueued.push({ process: id, tick: entry.tick_ms!, jid: entry.jid! });
      });
      await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`cron racer ${id} exited with ${code} before it started`)));
      });
      return child;
    };
    try {
      const [first] = await Promise.all([spawn(1), spawn(2), spawn(3)]);
      await sleep(2500);
      first!.kill('SIGKILL');
      killedAtVirtualMs = Number(env.BASE_MS) + (Date.now() - startMs) * SPEED;
      await sleep(300);
      await spawn(4);
      await sleep(2500);
    } finally {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))));
    }

    const ticks = enqueued.map((e) => e.tick);
    expect(new Set(ticks).size).toBe(ticks.length);
    // One tick every 100 ms of real time for ~5.3 s; a process stalled past a tick boundary may merge two.
    expect(ticks.length).toBeGreaterThanOrEqual(30);
    expect(ticks.every((tick) => tick % 1000 === 0)).toBe(true);
    // They raced for real: several processes won ticks, and so did the one started after the kill.
    expect(new Set(enqueued.map((e) => e.process)).size).toBeGreaterThanOrEqual(2);
    expect(enqueued.some((e) => e.process === 4)).toBe(true);

    // The store holds the jobs the processes say they enqueued, once each, and at most one more: the SIGKILLed
    // process's last push, if the kill landed between its push and its log line. That one serves a tick nobody
    // else enqueued (its virtual enqueue time names the tick) and came before the kill.
    const app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    const jobs = await app.store.jobList({ queue, state: 'ready', offset: 0, limit: 1000 });
    const logged = new Set(enqueued.map((e) => e.jid));
    expect(jobs.filter((job) => logged.has(job.jid))).toHaveLength(logged.size);
    const unlogged = jobs.filter((job) => !logged.has(job.jid));
    expect(unlogged.length).toBeLessThanOrEqual(1);
    for (const job of unlogged) {
      // The stored payload leaves enqueued_at out while it equals created_at (jobs/payload.ts).
      const payload = JSON.parse(job.raw) as { created_at: number; enqueued_at?: number };
      const enqueuedMs = (payload.enqueued_at ?? payload.created_at) * 1000;
      expect(enqueuedMs).toBeLessThan(killedAtVirtualMs!);
      expect(ticks).not.toContain(Math.floor(enqueuedMs / 1000) * 1000);
    }
    await app.close();
  }, 120_000); // four tsx processes start slowly on a loaded machine
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
