import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

describe('lagless queues: jobs deferred by a limit', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const prefix = `clid${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args, '--redis', redis.url, '--prefix', prefix]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('shows deferred jobs in the table and --json, and refuses to remove a queue whose only jobs are deferred', async () => {
    const queue = 'limited';
    const raw = (jid: string): string => JSON.stringify({ jid, class: 'Thumb', args: {}, created_at: 1 });
    const now = Date.now();
    await app.store.jobPushMany(['a', 'b', 'c'].map((jid) => ({ queue, jid, raw: raw(jid), nowMs: now })));
    await app.store.jobFetch({ queue, count: 3, token: 't', leaseMs: 60_000, nowMs: now });
    for (const jid of ['a', 'b', 'c']) await app.store.limitAcquire({ queue, jid, token: 't', workerClass: 'Thumb', limits: { concurrency: 1 }, nowMs: now, reserveMs: 60_000 });
    await app.store.jobAck({ queue, token: 't', nowMs: now, jobs: [{ jid: 'a' }] });

    const table = await cli('queues');
    expect(table.stdout.split('\n')[0]).toBe('queue    ready  scheduled  retry  dead  in-flight  deferred  dedup-keys  paused');
    expect(table.stdout.split('\n')[1]).toBe('limited      0          0      0     0          0         2           0');
    expect(JSON.parse((await cli('queues', '--json')).stdout)).toEqual([{ queue, ready: 0, scheduled: 0, retry: 0, dead: 0, inFlight: 0, dedupKeys: 0, deferred: 2, paused: false, pausedAt: null }]);

    const refused = await cli('queues', 'remove', queue);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Queue 'limited' still holds 2 deferred job\(s\); nothing was removed/);
    expect(await app.store.queueList()).toContain(queue);
  }, 60_000);
});
