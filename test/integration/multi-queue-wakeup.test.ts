import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';

let redis: RedisServerHandle;
let admin: Redis;
beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin.disconnect();
  await redis.stop();
});

const clients = async (): Promise<number> => String(await admin.client('LIST')).trim().split('\n').length;
const blocked = async (): Promise<number> => Number(/blocked_clients:(\d+)/.exec(await admin.info('clients'))![1]);

describe('a fetch over many queues on a single Redis', () => {
  const raw = (jid: string): string => `{"jid":"${jid}","class":"W","args":{},"created_at":1}`;
  const lease = { token: 't', leaseMs: 30_000, nowMs: 1 };

  it('sends a queue that has been empty for a second as its ready list alone, and still takes its jobs first when it comes first', async () => {
    const store = new RedisJobStore({ url: redis.url, prefix: `c${randomBytes(3).toString('hex')}` });
    const queues = Array.from({ length: 20 }, (_, i) => `q${i}`);
    await store.jobPush({ queue: 'q19', jid: 'warm', raw: raw('warm'), nowMs: 1 });
    expect((await store.jobFetchMany({ queues, count: 5, ...lease })).map((j) => j.jid)).toEqual(['warm']);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // q0..q18 go cold; q19 too once seen empty
    await store.jobFetchMany({ queues, count: 5, ...lease });
    const monitor = new Redis(redis.url);
    const commands: string[] = [];
    // The fetch script's key count (a push's script takes 2): what each fetch sent.
    (await monitor.monitor()).on('monitor', (_time: unknown, args: string[]) => args[0]?.toLowerCase() === 'evalsha' && Number(args[2]) > 2 && commands.push(args[2]!));
    await store.jobPush({ queue: 'q19', jid: 'late', raw: raw('late'), nowMs: 1 });
    await store.jobPush({ queue: 'q0', jid: 'first', raw: raw('first'), nowMs: 1 });
    // q0 comes first in this order and is cold: the fetch must not take q19's job ahead of it.
    expect((await store.jobFetchMany({ queues, count: 1, ...lease })).map((j) => `${j.queue}/${j.jid}`)).toEqual(['q0/first']);
    expect((await store.jobFetchMany({ queues, count: 5, ...lease })).map((j) => `${j.queue}/${j.jid}`)).toEqual(['q19/late']);
    await waitFor(() => commands.length >= 4);
    // Key counts: all cold (1 memo + 20), then q0 hot (1 + 6 + 19), then q19 sent cold and q0 hot, then q19 hot.
    expect(commands.slice(0, 4).map(Number)).toEqual([21, 26, 26, 31]);
    monitor.disconnect();
    await store.close();
  });

  it('once a first fetch has answered, sends every queue but the busy one cold, also those it did not reach', async () => {
    const store = new RedisJobStore({ url: redis.url, prefix: `k${randomBytes(3).toString('hex')}` });
    const queues = Array.from({ length: 20 }, (_, i) => `q${i}`);
    await store.jobPushMany(Array.from({ length: 30 }, (_, i) => ({ queue: 'q5', jid: `j${i}`, raw: raw(`j${i}`), nowMs: 1 })));
    const monitor = new Redis(redis.url);
    const sent: number[] = [];
    (await monitor.monitor()).on('monitor', (_time: unknown, args: string[]) => /^eval(sha)?$/i.test(args[0] ?? '') && Number(args[2]) > 4 && sent.push(Number(args[2])));
    for (let i = 0; i < 3; i++) expect(await store.jobFetchMany({ queues, count: 10, ...lease })).toHaveLength(10);
    await waitFor(() => sent.length >= 3);
    // All hot at first (1 memo + 20 × 6); then q5 hot and the 19 others, seen empty (q0–q4) or not reached, cold.
    expect(sent).toEqual([121, 26, 26]);
    monitor.disconnect();
    await store.close();
  });

  it('a fetch that finds a cold queue paused goes on to the next one with jobs', async () => {
    const store = new RedisJobStore({ url: redis.url, prefix: `k${randomBytes(3).toString('hex')}` });
    const queues = ['a', 'b'];
    expect(await store.jobFetchMany({ queues, count: 5, ...lease })).toEqual([]); // both seen empty: cold
    await store.queuePause({ queue: 'a', nowMs: 1 });
    await store.jobPush({ queue: 'a', jid: 'a1', raw: raw('a1'), nowMs: 1 });
    await store.jobPush({ queue: 'b', jid: 'b1', raw: raw('b1'), nowMs: 1 });
    expect((await store.jobFetchMany({ queues, count: 5, ...lease })).map((j) => j.jid)).toEqual(['b1']);
    await store.close();
  });

  it('a resend after the queues it leased from went cold still gets back what the first attempt leased', async () => {
    const store = new RedisJobStore({ url: redis.url, prefix: `k${randomBytes(3).toString('hex')}` });
    const queues = ['a', 'b', 'c'];
    await store.jobPush({ queue: 'b', jid: 'b1', raw: raw('b1'), nowMs: 1 });
    expect((await store.jobFetchMany({ queues, count: 5, fetchId: 'f1', ...lease })).map((j) => j.jid)).toEqual(['b1']);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // b goes cold
    await store.jobPush({ queue: 'c', jid: 'c1', raw: raw('c1'), nowMs: 1 });
    expect((await store.jobFetchMany({ queues, count: 5, fetchId: 'f1', ...lease })).map((j) => j.jid)).toEqual(['b1']);
    expect(await store.queueSizes('c')).toMatchObject({ ready: 1, inFlight: 0 });
    await store.close();
  });
});

describe('wake-ups on a single Redis', () => {
  it('one blocking connection per process however many queues it waits on, and a push to any of them wakes it', async () => {
    const prefix = `w${randomBytes(3).toString('hex')}`;
    const queues = Array.from({ length: 50 }, (_, i) => `q${i}`);
    const baseline = await clients();
    const store = new RedisJobStore({ url: redis.url, prefix });
    await store.queueSizes('q0'); // the command connection is up
    const waiting = store.jobWait({ queues, timeoutMs: 10_000 });
    await waitFor(async () => (await blocked()) === 1);
    expect(await clients()).toBe(baseline + 2);
    // A second wait on other queues from the same process shares the connection.
    const other = store.jobWait({ queues: ['elsewhere'], timeoutMs: 1500 });
    const before = Date.now();
    await store.jobPush({ queue: 'q37', jid: 'j', raw: '{"jid":"j","class":"W","args":{},"created_at":1}', nowMs: 1 });
    await waiting;
    expect(Date.now() - before).toBeLessThan(1000);
    await other;
    expect(await clients()).toBe(baseline + 2);
    await store.close();
  });

  it('a wake-up token popped while no wait is on its queue is kept for the next wait', async () => {
    const store = new RedisJobStore({ url: redis.url, prefix: `w${randomBytes(3).toString('hex')}` });
    const abort = new AbortController();
    const first = store.jobWait({ queues: ['a', 'b'], timeoutMs: 10_000, signal: abort.signal });
    await waitFor(async () => (await blocked()) === 1);
    abort.abort();
    await first;
    // The BLPOP is still pending, with nobody waiting: the token it pops must not be lost.
    await store.jobPush({ queue: 'b', jid: 'j', raw: '{"jid":"j","class":"W","args":{},"created_at":1}', nowMs: 1 });
    await waitFor(async () => (await store.client.llen(store.keys.queue('b').signal)) === 0);
    const before = Date.now();
    await store.jobWait({ queues: ['b'], timeoutMs: 3000 });
    expect(Date.now() - before).toBeLessThan(500);
    await store.close();
  });

  it('a worker on 50 queues runs the jobs of whichever is busy on two connections in all', async () => {
    const prefix = `w${randomBytes(3).toString('hex')}`;
    const baseline = await clients();
    const app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
    const queues = Array.from({ length: 50 }, (_, i) => `q${i}`);
    let ran = 0;
    const Busy = app.defineWorker({ name: 'Busy', queue: 'q49', perform: async () => void ran++ });
    await app.worker({ queues, concurrency: 4 }).start();
    await Busy.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ i })));
    await waitFor(() => ran === 200);
    expect(await clients()).toBe(baseline + 2);
    await app.close();
  });
});
