import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEADLINE_CONNECTION_OPTIONS, DeadlineCalls } from '../../src/redis/deadline-calls.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

class Unavailable extends Error {}
class Unknown extends Error {}
const options = (timeoutMs: number) => ({ timeoutMs, unavailable: (reason: string) => new Unavailable(reason), outcomeUnknown: () => new Unknown('unknown') });

describe('DeadlineCalls: lagless, not ioredis, resends a command, and only before its deadline', () => {
  let server: RedisServerHandle;
  const clients: Redis[] = [];
  const connect = (extra = {}): Redis => {
    const redis = new Redis(server.url, { ...DEADLINE_CONNECTION_OPTIONS, retryStrategy: () => 50, ...extra });
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  };
  beforeAll(async () => (server = await startRedisServer()));
  afterAll(async () => {
    clients.forEach((c) => c.disconnect());
    await server.stop();
  });

  it('rejects at once, without a resend, with the error Redis answered or the one thrown before sending', async () => {
    const redis = connect();
    const calls = new DeadlineCalls(redis);
    await calls.call(() => redis.ping(), options(2000));
    let sent = 0;
    const refused = await calls.call(() => (sent++, redis.call('NO-SUCH-COMMAND')), options(2000)).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/unknown command/);
    expect(sent).toBe(1);
    const bad = new Error('a key this call cannot build');
    const started = Date.now();
    const thrown = await calls.call(() => { throw bad; }, options(2000)).catch((e: unknown) => e);
    expect(thrown).toBe(bad);
    expect(Date.now() - started).toBeLessThan(500);
    expect(await calls.call(() => redis.ping(), options(2000))).toBe('PONG');
  });

  it('resends a command whose connection closed before its reply, once reconnected', async () => {
    const redis = connect();
    const admin = connect();
    const calls = new DeadlineCalls(redis);
    await calls.call(() => redis.ping(), options(2000));
    let sent = 0;
    const reply = calls.call(() => (sent++, redis.blpop('dc:list', 2)), options(3000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal'); // the victim's BLPOP loses its connection (the admin's own is kept)
    await new Promise((resolve) => setTimeout(resolve, 300));
    await admin.rpush('dc:list', 'v');
    expect(await reply).toEqual(['dc:list', 'v']);
    expect(sent).toBe(2);
  });

  it('waits for the connection instead of failing at once, and rejects as unavailable when nothing was written', async () => {
    const redis = connect();
    const calls = new DeadlineCalls(redis);
    await calls.call(() => redis.ping(), options(2000));
    await server.kill();
    try {
      const started = Date.now();
      const error = await calls.call(() => redis.set('dc:k', 'v'), options(300)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Unavailable);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await server.start();
    }
    expect(await calls.call(() => redis.get('dc:k'), options(3000))).toBeNull(); // the refused write never landed
  });

  it('rejects as outcome unknown when a written command gets no reply before the deadline, and never sends it again', async () => {
    const redis = connect();
    const admin = connect();
    const calls = new DeadlineCalls(redis);
    await calls.call(() => redis.ping(), options(2000));
    let sent = 0;
    const error = await calls.call(() => (sent++, redis.blpop('dc:never', 5)), options(200)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unknown);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal'); // a reconnect now must not resend the abandoned BLPOP
    await new Promise((resolve) => setTimeout(resolve, 500));
    await admin.rpush('dc:never', 'v');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await admin.lrange('dc:never', 0, -1)).toEqual(['v']);
    expect(sent).toBe(1);
  });
});
