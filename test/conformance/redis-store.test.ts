import { randomBytes } from 'node:crypto';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { startRedisServer } from '../../src/sandbox/redis-server.js';
import { describe, expect, it } from 'vitest';
import { jobStoreConformance } from './job-store.suite.js';
import { scheduleStoreConformance } from './schedule-store.suite.js';

jobStoreConformance('RedisJobStore', async () => {
  const server = await startRedisServer();
  const store = new RedisJobStore({ url: server.url, prefix: `t${randomBytes(3).toString('hex')}` });
  return {
    store,
    close: async () => {
      await store.close();
      await server.stop();
    },
  };
});

scheduleStoreConformance('RedisJobStore', async () => {
  const server = await startRedisServer();
  const store = new RedisJobStore({ url: server.url, prefix: `t${randomBytes(3).toString('hex')}` });
  return {
    store,
    close: async () => {
      await store.close();
      await server.stop();
    },
  };
});

describe('RedisJobStore scripts', () => {
  it('reloads its scripts after SCRIPT FLUSH (as after a Redis restart) and keeps every key of a queue in one slot', async () => {
    const server = await startRedisServer();
    const store = new RedisJobStore({ url: server.url, prefix: 'flush' });
    await store.jobPush({ queue: 'q', jid: 'a', raw: '{"jid":"a","class":"W","args":{},"created_at":1}', nowMs: 1 });
    await store.client.script('FLUSH');
    await store.jobPush({ queue: 'q', jid: 'b', raw: '{"jid":"b","class":"W","args":{},"created_at":1}', nowMs: 1 });
    expect((await store.jobFetch({ queue: 'q', count: 5, token: 't', leaseMs: 1000, nowMs: 1 })).map((j) => j.jid)).toEqual(['a', 'b']);
    const keys = Object.values(store.keys.queue('q'));
    expect(new Set(keys.map((key) => /\{[^}]+\}/.exec(key)![0]))).toEqual(new Set(['{q}']));
    await store.close();
    await server.stop();
  });
});
