import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, EnqueueOutcomeUnknownError, StoreUnavailableError } from '../../src/index.js';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';
import { startReplyDroppingProxy } from '../support/reply-dropping-proxy.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const STUBBORN_APP = new URL('../fixtures/stubborn-app.ts', import.meta.url).pathname;
const prefix = (): string => `rf${randomBytes(3).toString('hex')}`;

async function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, ms: Date.now() - started };
  }
}

describe('Redis outages: every wait bounded, no ghost or doubled job', () => {
  let redis: RedisServerHandle;
  beforeAll(async () => (redis = await startRedisServer({ durable: true })));
  afterAll(async () => redis.stop());

  it('rejects an enqueue with StoreUnavailableError while Redis is down, and never pushes it once Redis is back', async () => {
    const p = prefix();
    const app = createLagless({ redis: { url: redis.url, prefix: p, enqueueTimeoutMs: 500 }, logger: false });
    const W = app.defineWorker({ name: 'GhostWorker', queue: 'ghost', perform: () => undefined });
    const before = await W.enqueue({ n: 0 });
    await redis.kill();
    // Until the client sees the socket close, a push is written into it and its outcome is unknown (tested below).
    await waitFor(() => (app.store as RedisJobStore).client.status !== 'ready', 5000, 'the client to see the outage');
    try {
      const started = Date.now();
      const error = await W.enqueue({ n: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toContain(`127.0.0.1:${redis.port}`);
      expect((error as Error).message).toContain('redis.enqueueTimeoutMs');
      expect(await W.enqueueMany([{ n: 2 }, { n: 3 }]).catch((e: unknown) => e)).toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await redis.start();
    }
    await waitFor(() => (app.store as RedisJobStore).client.status === 'ready', 10_000, 'the client to reconnect');
    const after = await W.enqueue({ n: 4 }); // anything a Redis client had held back would be sent by now
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ready = (await app.store.jobList({ queue: 'ghost', state: 'ready', offset: 0, limit: 10 })).map((job) => JSON.parse(job.raw).args.n);
    expect(ready).toEqual([0, 4]);
    expect([before.jid, after.jid]).not.toContain(undefined);
    await app.close();
  });

  it('settles close() at once and fails CLI reads within a few seconds with one line while Redis is unreachable', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const app = createLagless({ redis: { url: closed, commandTimeoutMs: 300 }, logger: false });
    const started = Date.now();
    expect(await app.store.queueList().catch((e: unknown) => e)).toBeInstanceOf(StoreUnavailableError);
    await app.close();
    expect(Date.now() - started).toBeLessThan(1500);

    for (const args of [['queues'], ['dead', 'list', '--queue', 'default']]) {
      const result = await cli({}, ...args, '--redis', closed);
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain('did not answer within');
      expect(result.stderr).not.toContain('    at ');
      expect(result.ms).toBeLessThan(12_000);
    }
  }, 60_000);

  it('loses no job, and runs twice none but a job whose push was resent, when Redis is killed (SIGKILL) and restarted from its AOF mid-run', async () => {
    const p = prefix();
    const app = createLagless({ redis: { url: redis.url, prefix: p, enqueueTimeoutMs: 10_000, commandTimeoutMs: 10_000 }, logger: false });
    const runs = new Map<string, number>();
    const W = app.defineWorker({
      name: 'SteadyWorker',
      queue: 'steady',
      perform: async (_args: { i: number }, ctx) => {
        runs.set(ctx.jid, (runs.get(ctx.jid) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 2));
      },
    });
    const worker = app.worker({ queues: ['steady'], concurrency: 10 });
    await worker.start();
    const enqueued: string[] = [];
    const failures: unknown[] = [];
    // The enqueue each caller has under way when Redis dies, and the jids those calls returned: a push written
    // before the kill is resent after the restart, and if a worker ran its job in between, the job is queued again
    // (README, "A lost reply is settled by lagless": at-least-once). No other job may run twice.
    const underWay = new Map<number, number>();
    let atKill = new Set<string>();
    const resent = new Set<string>();
    const enqueuers = Array.from({ length: 10 }, async (_, e) => {
      for (let i = 0; i < 150; i++) {
        underWay.set(e, i);
        try {
          const { jid } = await W.enqueue({ i: e * 1000 + i });
          enqueued.push(jid);
          if (atKill.has(`${e}/${i}`)) resent.add(jid);
        } catch (error) {
          failures.push(error);
        }
      }
      underWay.delete(e);
    });
    await waitFor(() => enqueued.length >= 300, 10_000, '300 enqueues');
    atKill = new Set([...underWay].map(([e, i]) => `${e}/${i}`));
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.start();
    const restartedAt = Date.now();
    await Promise.all(enqueuers);
    expect(failures).toEqual([]);
    expect(new Set(enqueued).size).toBe(1500);
    await waitFor(() => enqueued.every((jid) => runs.has(jid)), 15_000, 'every job done');
    expect(Date.now() - restartedAt).toBeLessThan(10_000); // well within one lease (30 s): no job stranded
    await worker.stop();
    expect([...runs].filter(([jid, count]) => count > (resent.has(jid) ? 2 : 1))).toEqual([]);
    expect(runs.size).toBe(1500);
    expect(await app.store.queueSizes('steady')).toMatchObject({ ready: 0, inFlight: 0 });
    await app.close();
  }, 60_000);

  it('sends a push again when its reply is lost, and queues its job once (single, batch, deduplicated)', async () => {
    const proxy = await startReplyDroppingProxy(redis.port);
    const store = new RedisJobStore({ url: proxy.url, prefix: prefix() });
    const raw = (jid: string, extra = ''): string => `{"jid":"${jid}"${extra},"class":"W","args":{},"created_at":1}`;
    const nowMs = Date.now();
    await store.queueList(); // connected
    proxy.dropReplyTo('lost-one');
    expect(await store.jobPush({ queue: 'q', jid: 'lost-one', raw: raw('lost-one'), nowMs })).toEqual({ pushed: true, jid: 'lost-one' });
    proxy.dropReplyTo('lost-batch-2');
    const batch = await store.jobPushMany(['lost-batch-1', 'lost-batch-2'].map((jid) => ({ queue: 'q', jid, raw: raw(jid), nowMs })));
    expect(batch.map((r) => r.pushed)).toEqual([true, true]);
    const dedup = { key: 'k1', strategy: 'until_executing' as const, idempotent: true, ttlMs: 60_000, preserveLatestWal: true, rescheduleOnce: false };
    proxy.dropReplyTo('lost-owner');
    expect(await store.jobPush({ queue: 'q', jid: 'lost-owner', raw: raw('lost-owner', ',"idempotency_key":"k1"'), nowMs, dedup })).toEqual({ pushed: true, jid: 'lost-owner' });
    expect(proxy.connections).toBe(4); // each lost reply cost one reconnect
    const ready = await store.jobList({ queue: 'q', state: 'ready', offset: 0, limit: 10 });
    expect(ready.map((job) => job.jid).sort()).toEqual(['lost-batch-1', 'lost-batch-2', 'lost-one', 'lost-owner']);
    await store.close();
    await proxy.close();
  });

  it('hands the jobs of a fetch whose reply was lost to the resend, stranding none', async () => {
    const proxy = await startReplyDroppingProxy(redis.port);
    const store = new RedisJobStore({ url: proxy.url, prefix: prefix() });
    const nowMs = Date.now();
    await store.jobPushMany(['a', 'b', 'c'].map((jid) => ({ queue: 'q', jid, raw: `{"jid":"${jid}","class":"W","args":{},"created_at":1}`, nowMs })));
    proxy.dropReplyTo('lost-fetch-token');
    const jobs = await store.jobFetch({ queue: 'q', count: 2, token: 'lost-fetch-token', leaseMs: 30_000, nowMs });
    expect(jobs.map((job) => job.jid)).toEqual(['a', 'b']);
    expect(proxy.connections).toBe(2);
    expect(await store.queueSizes('q')).toMatchObject({ ready: 1, inFlight: 2 }); // nothing leased to nobody
    await store.close();
    await proxy.close();
  });

  it('reads a resend memo written by an earlier version (one fetch, not a list), as during a rolling upgrade', async () => {
    const store = new RedisJobStore({ url: redis.url, prefix: prefix() });
    const nowMs = Date.now();
    await store.jobPushMany(['a', 'b', 'c'].map((jid) => ({ queue: 'q', jid, raw: `{"jid":"${jid}","class":"W","args":{},"created_at":1}`, nowMs })));
    const lease = { queue: 'q', count: 2, token: 'upgraded', leaseMs: 30_000, nowMs, fetchId: 'f1' };
    const jobs = await store.jobFetch(lease);
    const memo = store.keys.lastFetch('q', 'upgraded');
    const [latest] = JSON.parse((await store.client.get(memo))!) as unknown[];
    await store.client.set(memo, JSON.stringify(latest), 'PX', 30_000);
    expect(await store.jobFetch(lease)).toEqual(jobs);
    expect(await store.queueSizes('q')).toMatchObject({ ready: 1, inFlight: 2 });
    await store.close();
  });

  it('rejects with EnqueueOutcomeUnknownError naming the jid when a written push gets no reply before the deadline', async () => {
    const p = prefix();
    const app = createLagless({ redis: { url: redis.url, prefix: p, enqueueTimeoutMs: 400 }, logger: false });
    const W = app.defineWorker({ name: 'HungWorker', queue: 'hung', perform: () => undefined });
    await W.enqueue({ n: 0 });
    await app.store.queueList();
    const pid = Number(/process_id:(\d+)/.exec(await (app.store as RedisJobStore).client.info('server'))![1]);
    process.kill(pid, 'SIGSTOP');
    let error: unknown;
    try {
      error = await W.enqueue({ n: 1 }).catch((e: unknown) => e);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(error).toBeInstanceOf(EnqueueOutcomeUnknownError);
    expect((error as EnqueueOutcomeUnknownError).jids).toHaveLength(1);
    expect((error as Error).message).toContain((error as EnqueueOutcomeUnknownError).jids[0]);
    await app.close();
  });
});

describe('lagless worker shutdown', () => {
  let redis: RedisServerHandle;
  beforeAll(async () => (redis = await startRedisServer()));
  afterAll(async () => redis.stop());

  function startWorker(env: NodeJS.ProcessEnv, timeoutMs: number) {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--app', STUBBORN_APP, '--timeout', String(timeoutMs)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, logs: () => stdout };
  }

  it('hands back a job that ignores ctx.signal after --timeout and exits, logging the signal', async () => {
    const p = prefix();
    const app = createLagless({ redis: { url: redis.url, prefix: p }, logger: false });
    const W = app.defineWorker({ name: 'StubbornWorker', queue: 'stubborn', perform: () => undefined });
    const { jid } = await W.enqueue({});
    const worker = startWorker({ REDIS_URL: redis.url, PREFIX: p }, 1000);
    await waitFor(() => worker.logs().includes('"job_status":"start"'), 20_000, 'the job to start');
    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(1000 + 3000);
    expect(worker.logs()).toContain('received SIGTERM');
    const ready = await app.store.jobList({ queue: 'stubborn', state: 'ready', offset: 0, limit: 5 });
    expect(ready.map((job) => job.jid)).toEqual([jid]);
    expect(await app.store.queueSizes('stubborn')).toMatchObject({ inFlight: 0 });
    await app.close();
  }, 60_000);

  it('exits within --timeout plus a small margin on SIGTERM while Redis is unreachable', async () => {
    const worker = startWorker({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, PREFIX: prefix() }, 1000);
    await waitFor(() => worker.logs().includes('worker started'), 20_000, 'the worker to start');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(1000 + 3000);
    expect(worker.logs()).toContain('received SIGTERM');
  }, 60_000);
});
