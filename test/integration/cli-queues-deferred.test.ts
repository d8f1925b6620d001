import { describe, expect, it } from 'vitest';
import { cliOnRedis } from '../support/cli-on-redis.js';

describe('lagless queues: jobs deferred by a limit', () => {
  const { app, cli } = cliOnRedis();

  it('shows deferred jobs in the table and --json, and refuses to remove a queue whose only jobs are deferred', async () => {
    const queue = 'limited';
    const raw = (jid: string): string => JSON.stringify({ jid, class: 'Thumb', args: {}, created_at: 1 });
    const now = Date.now();
    await app().store.jobPushMany(['a', 'b', 'c'].map((jid) => ({ queue, jid, raw: raw(jid), nowMs: now })));
    await app().store.jobFetch({ queue, count: 3, token: 't', leaseMs: 60_000, nowMs: now });
    for (const jid of ['a', 'b', 'c']) await app().store.limitAcquire({ queue, jid, token: 't', workerClass: 'Thumb', limits: { concurrency: 1 }, nowMs: now, reserveMs: 60_000 });
    await app().store.jobAck({ queue, token: 't', nowMs: now, jobs: [{ jid: 'a' }] });

    const table = await cli('queues');
    expect(table.stdout.split('\n')[0]).toBe('queue    ready  scheduled  retry  dead  in-flight  deferred  dedup-keys  paused');
    expect(table.stdout.split('\n')[1]).toBe('limited      0          0      0     0          0         2           0');
    expect(JSON.parse((await cli('queues', '--json')).stdout)).toEqual([{ queue, ready: 0, scheduled: 0, retry: 0, dead: 0, inFlight: 0, dedupKeys: 0, deferred: 2, paused: false, pausedAt: null }]);

    const refused = await cli('queues', 'remove', queue);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Queue 'limited' still holds 2 deferred job\(s\); nothing was removed/);
    expect(await app().store.queueList()).toContain(queue);
  }, 60_000);
});
