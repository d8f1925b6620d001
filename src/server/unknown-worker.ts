import type { UnknownWorkerError } from '../errors.js';
import type { JobPayload } from '../jobs/payload.js';

/**
 * How long a job whose worker no process has defined is retried before it goes to the dead set (worker option
 * `unknownWorkerRetryMs`). During a rolling deploy new code enqueues jobs that old processes cannot run yet; an
 * hour covers a slow deploy or a canary, and still ends a job for a worker that was renamed or removed for good.
 */
export const DEFAULT_UNKNOWN_WORKER_RETRY_MS = 3_600_000;
/** First retry after about 15 s, as Sidekiq's first retry. */
const FIRST_DELAY_MS = 15_000;

export type UnknownWorkerPlan =
  | { dead: false; job: JobPayload; runAtMs: number }
  | { dead: true; job: JobPayload };

/**
 * What to do with a job whose worker is not defined in this process. It is a retry: the job waits in the retry set
 * with the error recorded, and the queue counts a failure. It does not use the worker's retry budget (`retry_count`
 * is unchanged: the worker never ran, and its own retry.max must stay whole for when it does). Each wait is as long
 * as the job has been waiting already (at least FIRST_DELAY_MS, jittered), so attempts thin out geometrically and a
 * job runs at most about as late again as the deploy took; the last attempt is at the deadline, then the dead set.
 */
export function planUnknownWorker(job: JobPayload, error: UnknownWorkerError, nowMs: number, retryMs: number, random: () => number = Math.random): UnknownWorkerPlan {
  const sinceMs = job.unknown_worker_since !== undefined ? job.unknown_worker_since * 1000 : nowMs;
  const deadlineMs = sinceMs + retryMs;
  const next: JobPayload = { ...job, unknown_worker_since: sinceMs / 1000, error_class: error.name, error_message: error.message };
  delete next.error_backtrace;
  delete next.load_balancing_strategy;
  if (next.failed_at === undefined) next.failed_at = nowMs / 1000;
  else next.retried_at = nowMs / 1000;
  if (nowMs >= deadlineMs) {
    next.error_message = `${error.message} No worker process defined it within ${formatMs(retryMs)} (to wait longer: app.worker({ unknownWorkerRetryMs }) or lagless worker --unknown-worker-retry-ms); moved to the dead set; retry it with lagless dead retry once the worker is deployed.`;
    return { dead: true, job: next };
  }
  const delayMs = Math.max(FIRST_DELAY_MS, nowMs - sinceMs) * (1 + random() / 5);
  return { dead: false, job: next, runAtMs: Math.min(Math.round(nowMs + delayMs), deadlineMs) };
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
