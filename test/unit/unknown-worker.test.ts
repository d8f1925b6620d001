import { describe, expect, it } from 'vitest';
import { UnknownWorkerError } from '../../src/errors.js';
import type { JobPayload } from '../../src/jobs/payload.js';
import { planUnknownWorker } from '../../src/server/unknown-worker.js';

describe('a job whose worker is not defined', () => {
  const error = new UnknownWorkerError('Gone');
  const start = 1_800_000_000_000;
  const fresh = (): JobPayload => ({ jid: 'j', class: 'Gone', queue: 'q', args: {}, created_at: 1, enqueued_at: 1, retry_count: 2, error_backtrace: ['at old'] });

  it('is retried with growing waits and ends in the dead set after a bounded number of attempts, the last at the deadline', () => {
    let job = fresh();
    let now = start;
    const attempts: number[] = [];
    for (let i = 0; i < 100; i++) {
      attempts.push(Math.round((now - start) / 1000));
      const plan = planUnknownWorker(job, error, now, 3_600_000, () => 0);
      job = plan.job;
      if (plan.dead) break;
      now = plan.runAtMs;
    }
    expect(attempts).toEqual([0, 15, 30, 60, 120, 240, 480, 960, 1920, 3600]);
    expect(job).toMatchObject({ retry_count: 2, error_class: 'UnknownWorkerError', unknown_worker_since: start / 1000, failed_at: start / 1000, retried_at: (start + 3_600_000) / 1000 });
    expect(job.error_message).toMatch(/^Worker 'Gone' is not registered.* No worker process defined it within 1 h \(to wait longer: app\.worker\(\{ unknownWorkerRetryMs \}\) or lagless worker --unknown-worker-retry-ms\); moved to the dead set; retry it with lagless dead retry once the worker is deployed\.$/);
    expect(job.error_backtrace).toBeUndefined();
  });

  it('spreads retries with up to 20 % jitter and never schedules past the deadline', () => {
    const first = planUnknownWorker(fresh(), error, start, 3_600_000, () => 0.999);
    expect(first).toMatchObject({ dead: false, runAtMs: start + 17_997 });
    expect(planUnknownWorker(fresh(), error, start, 5_000, () => 0.5)).toMatchObject({ dead: false, runAtMs: start + 5_000 });
  });

  it('goes to the dead set at once with unknownWorkerRetryMs 0', () => {
    const plan = planUnknownWorker(fresh(), error, start, 0);
    expect(plan.dead).toBe(true);
    expect(plan.job.error_message).toMatch(/within 0 ms/);
  });
});
