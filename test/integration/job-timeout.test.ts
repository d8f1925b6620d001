import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, InvalidOptionError, JobTimeoutError, type JobPayload } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';
import { bothStores } from '../helpers/stores.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

describe.each(bothStores(() => redis))('per-job timeout on the %s store', (_name, redisConfig) => {
  it('aborts ctx.signal with a JobTimeoutError past timeoutMs, fails the attempt and retries it like any failure', async () => {
    const { logger, lines } = captureLogs();
    const app = createLagless({ redis: redisConfig(), logger });
    const queue = `q${randomBytes(3).toString('hex')}`;
    const reasons: unknown[] = [];
    let attempts = 0;
    const Slow = app.defineWorker({
      name: 'SlowWorker',
      queue,
      timeoutMs: 150,
      retry: { max: 1, backoffMs: () => 10 },
      perform: async (_args: object, ctx) => {
        attempts++;
        // Waits for the abort only: without the timeout this attempt would never end.
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        reasons.push(ctx.signal.reason);
      },
    });
    const { jid } = await Slow.enqueue({});
    await app.worker({ queues: [queue], concurrency: 2, leaseMs: 100, maintenanceIntervalMs: 10 }).start();
    await waitFor(async () => (await app.store.queueSizes(queue)).dead === 1, 10_000);
    const [dead] = await deadJobs(app, queue);
    await app.close();
    expect(attempts).toBe(2);
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toBeInstanceOf(JobTimeoutError);
    expect(dead).toMatchObject({ jid, error_class: 'JobTimeoutError', retry_count: 2 });
    expect(dead!.error_message).toContain('timeoutMs (150 ms)');
    const failures = lines.filter((l) => l.jid === jid && l.job_status === 'fail');
    expect(failures.map((l) => l.error_class)).toEqual(['JobTimeoutError', 'JobTimeoutError']);
  });

  it('keeps renewing the lease of a job that runs longer than leaseMs but within timeoutMs, so it runs once', async () => {
    const app = createLagless({ redis: redisConfig(), logger: false });
    const queue = `q${randomBytes(3).toString('hex')}`;
    let attempts = 0;
    const Long = app.defineWorker({
      name: 'LongWorker',
      queue,
      timeoutMs: 5_000,
      perform: async () => {
        attempts++;
        await new Promise((resolve) => setTimeout(resolve, 1600));
      },
    });
    await Long.enqueue({});
    // Two runtimes: if the lease lapsed, maintenance would recover the job and the other one would start it again.
    // Runs 3 leases long (a margin for a loaded machine's event-loop stalls, which also delay renewals).
    await app.worker({ queues: [queue], concurrency: 1, leaseMs: 500, maintenanceIntervalMs: 20 }).start();
    await app.worker({ queues: [queue], concurrency: 1, leaseMs: 500, maintenanceIntervalMs: 20 }).start();
    await waitFor(async () => (await app.store.queueCounters(queue)).processed === 1, 10_000);
    await app.close();
    expect(attempts).toBe(1);
  });

  it('refuses a timeoutMs that is not a positive whole number of ms', () => {
    const app = createLagless({ logger: false });
    for (const timeoutMs of [0, -1, 1.5, 2 ** 31]) {
      expect(() => app.defineWorker({ name: `Bad${String(timeoutMs).replace(/\W/g, '')}`, timeoutMs, perform: () => {} })).toThrow(InvalidOptionError);
    }
  });
});

async function deadJobs(app: ReturnType<typeof createLagless>, queue: string): Promise<JobPayload[]> {
  const jobs = await app.store.jobList({ queue, state: 'dead', offset: 0, limit: 10 });
  return jobs.map((job) => JSON.parse(job.raw) as JobPayload);
}
