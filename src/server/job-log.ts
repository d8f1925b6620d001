import type { JobPayload } from '../jobs/payload.js';

/**
 * The fields of DESIGN.md §8 that every job log line carries, taken from the payload: only those the job has, in a
 * fresh object the caller may add to. (pino skips undefined values but still visits them; on a no-op job the log
 * line is the larger part of the work, so it holds only what it prints.)
 */
export function jobLogFields(job: JobPayload): Record<string, unknown> {
  const fields: Record<string, unknown> = { class: job.class, jid: job.jid, queue: job.queue, retry_count: job.retry_count ?? 0 };
  if (job.idempotency_key !== undefined) fields.idempotency_key = job.idempotency_key;
  if (job['duplicate-of'] !== undefined) fields['duplicate-of'] = job['duplicate-of'];
  if (job.wal_locations !== undefined) fields.wal_locations = job.wal_locations;
  if (job.wal_location_sources !== undefined) fields.wal_location_sources = job.wal_location_sources;
  if (job.worker_data_consistency !== undefined) fields.worker_data_consistency = job.worker_data_consistency;
  if (job.load_balancing_strategy !== undefined) fields.load_balancing_strategy = job.load_balancing_strategy;
  return fields;
}
