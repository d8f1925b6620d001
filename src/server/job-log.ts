import type { JobPayload } from '../jobs/payload.js';

/** The fields of DESIGN.md §8 that every job log line carries, taken from the payload. */
export function jobLogFields(job: JobPayload): Record<string, unknown> {
  return {
    class: job.class,
    jid: job.jid,
    queue: job.queue,
    retry_count: job.retry_count ?? 0,
    idempotency_key: job.idempotency_key,
    'duplicate-of': job['duplicate-of'],
    wal_locations: job.wal_locations,
    wal_location_sources: job.wal_location_sources,
    worker_data_consistency: job.worker_data_consistency,
    load_balancing_strategy: job.load_balancing_strategy,
  };
}
