import { Counter, Histogram, Registry } from 'prom-client';

/** Job metrics of one app, on the app's own registry (never the global one, so apps and tests do not collide). */
export class JobMetrics {
  readonly enqueued: Counter<'queue' | 'worker'>;
  readonly deduplicated: Counter<'queue' | 'worker' | 'strategy'>;
  readonly rescheduled: Counter<'queue' | 'worker'>;
  readonly dedupWalUpdates: Counter<'database'>;
  readonly completed: Counter<'queue' | 'worker' | 'status'>;
  readonly duration: Histogram<'queue' | 'worker'>;
  readonly latency: Histogram<'queue'>;
  readonly deferred: Counter<'queue' | 'worker' | 'limit'>;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.enqueued = new Counter({ name: 'lagless_jobs_enqueued_total', help: 'Jobs pushed to a queue', labelNames: ['queue', 'worker'], registers });
    this.deduplicated = new Counter({ name: 'lagless_jobs_deduplicated_total', help: 'Enqueues absorbed by an idempotent twin', labelNames: ['queue', 'worker', 'strategy'], registers });
    this.rescheduled = new Counter({ name: 'lagless_jobs_rescheduled_total', help: 'Jobs re-enqueued once by reschedule_once', labelNames: ['queue', 'worker'], registers });
    this.dedupWalUpdates = new Counter({ name: 'lagless_dedup_wal_location_updates_total', help: 'Dedup cookie WAL positions raised by an absorbed enqueue', labelNames: ['database'], registers });
    this.completed = new Counter({ name: 'lagless_jobs_completed_total', help: 'Job executions by outcome (done, retry, dead, snoozed)', labelNames: ['queue', 'worker', 'status'], registers });
    this.duration = new Histogram({ name: 'lagless_job_duration_seconds', help: 'Time spent in perform', labelNames: ['queue', 'worker'], registers, buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60] });
    this.latency = new Histogram({ name: 'lagless_job_queue_latency_seconds', help: 'From due (enqueued or scheduled time) to start', labelNames: ['queue'], registers, buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60, 600] });
    this.deferred = new Counter({ name: 'lagless_jobs_deferred_total', help: 'Jobs parked by a concurrency or rate limit until their turn (not failures)', labelNames: ['queue', 'worker', 'limit'], registers });
  }
}
