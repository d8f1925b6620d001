import type { Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './series-metrics.js';

/**
 * Job metrics of one app, on the app's own registry (never the global one, so apps and tests do not collide).
 * Every job counts into several of these, so they are the cheap series metrics, not prom-client's own.
 */
export class JobMetrics {
  readonly enqueued: SeriesCounter<'queue' | 'worker'>;
  readonly deduplicated: SeriesCounter<'queue' | 'worker' | 'strategy'>;
  readonly rescheduled: SeriesCounter<'queue' | 'worker'>;
  readonly dedupWalUpdates: SeriesCounter<'database'>;
  readonly completed: SeriesCounter<'queue' | 'worker' | 'status'>;
  readonly duration: SeriesHistogram<'queue' | 'worker'>;
  readonly latency: SeriesHistogram<'queue'>;
  readonly deferred: SeriesCounter<'queue' | 'worker' | 'limit'>;

  constructor(readonly registry: Registry) {
    this.enqueued = new SeriesCounter('lagless_jobs_enqueued_total', 'Jobs pushed to a queue', ['queue', 'worker'], registry);
    this.deduplicated = new SeriesCounter('lagless_jobs_deduplicated_total', 'Enqueues absorbed by an idempotent twin', ['queue', 'worker', 'strategy'], registry);
    this.rescheduled = new SeriesCounter('lagless_jobs_rescheduled_total', 'Jobs re-enqueued once by reschedule_once', ['queue', 'worker'], registry);
    this.dedupWalUpdates = new SeriesCounter('lagless_dedup_wal_location_updates_total', 'Dedup cookie WAL positions raised by an absorbed enqueue', ['database'], registry);
    this.completed = new SeriesCounter('lagless_jobs_completed_total', 'Job executions by outcome (done, retry, dead, snoozed)', ['queue', 'worker', 'status'], registry);
    this.duration = new SeriesHistogram('lagless_job_duration_seconds', 'Time spent in perform', ['queue', 'worker'], registry, [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60]);
    this.latency = new SeriesHistogram('lagless_job_queue_latency_seconds', 'From due (enqueued or scheduled time) to start', ['queue'], registry, [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60, 600]);
    this.deferred = new SeriesCounter('lagless_jobs_deferred_total', 'Jobs parked by a concurrency or rate limit until their turn (not failures)', ['queue', 'worker', 'limit'], registry);
  }
}
