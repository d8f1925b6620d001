import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { startRedisServer } from '../../src/sandbox/redis-server.js';
import { HISTORY_RETENTION_MS, minuteOf, PROGRESS_TTL_MS } from '../../src/store/job-records.js';
import { jobRecordsConformance } from './job-records.suite.js';

jobRecordsConformance('RedisJobStore', async () => {
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

describe('RedisJobStore records in Redis', () => {
  it('gives every record and minute key an expiry and keeps them in the queue slot', async () => {
    const server = await startRedisServer();
    const store = new RedisJobStore({ url: server.url, prefix: 'rec' });
    const now = Date.now();
    const raw = (jid: string): string => JSON.stringify({ jid, class: 'W', args: {}, created_at: 1 });
    await store.jobPushMany(['a', 'b'].map((jid) => ({ queue: 'q', jid, raw: raw(jid), nowMs: now })));
    await store.jobFetch({ queue: 'q', count: 2, token: 't', leaseMs: 60_000, nowMs: now });
    await store.jobProgress({ queue: 'q', jid: 'a', value: '1', nowMs: now });
    await store.jobAck({ queue: 'q', token: 't', nowMs: now, jobs: [{ jid: 'a' }] });
    await store.jobDead({ queue: 'q', jid: 'b', token: 't', raw: raw('b'), nowMs: now, runAtMs: now });
    const minute = store.keys.minuteStats('q', minuteOf(now));
    const record = store.keys.jobRecord('q', 'a');
    const minuteTtl = await store.client.pttl(minute);
    expect(minuteTtl).toBeGreaterThan(HISTORY_RETENTION_MS - 60_000);
    expect(minuteTtl).toBeLessThanOrEqual(HISTORY_RETENTION_MS);
    expect(await store.client.hgetall(minute)).toEqual({ processed: '1', failed: '1' });
    expect(await store.client.pttl(record)).toBeGreaterThan(PROGRESS_TTL_MS - 60_000);
    await store.jobFinished({ queue: 'q', jid: 'a', nowMs: now, record: { value: { state: 'completed', class: 'W', attempts: 1, createdAtMs: 1, enqueuedAtMs: 1, startedAtMs: 2, finishedAtMs: 3 }, ttlMs: 5000 } });
    expect(await store.client.pttl(record)).toBeLessThanOrEqual(5000);
    for (const key of [minute, record, store.keys.events('q')]) expect(key).toContain('{q}');
    await store.close();
    await server.stop();
  });
});
