import { MalformedPayloadError } from '../errors.js';

export type LoadBalancingStrategy = 'primary' | 'primary_no_wal' | 'replica' | 'replica_retried' | 'retry';
export type DataConsistency = 'always' | 'sticky' | 'delayed';
export type WalLocations = Record<string, string>;

/** The job as stored and logged (snake_case on the wire, DESIGN.md §3). */
export interface JobPayload {
  jid: string;
  class: string;
  queue: string;
  args: unknown;
  created_at: number;
  enqueued_at: number;
  at?: number;
  retry_count?: number;
  error_class?: string;
  error_message?: string;
  /** Stack frames of the last error, bounded by the worker option `backtrace` (jobs/backtrace.ts). */
  error_backtrace?: string[];
  /** Epoch seconds when a worker first found no definition for `class` (a rolling deploy); cleared once one does. */
  unknown_worker_since?: number;
  failed_at?: number;
  retried_at?: number;
  idempotency_key?: string;
  'duplicate-of'?: string;
  wal_locations?: WalLocations;
  wal_location_sources?: Record<string, 'primary' | 'replica'>;
  dedup_wal_locations?: WalLocations;
  worker_data_consistency?: DataConsistency;
  rescheduled_once?: boolean;
  load_balancing_strategy?: LoadBalancingStrategy;
}

/**
 * Stored form: `queue` is implied by the key the job lives in, and `enqueued_at` is left out while it equals
 * `created_at`; both come back in decodePayload. Waiting jobs are the bulk of Redis memory, so every byte counts.
 * Invariant: `jid` is the first field and `idempotency_key` the second (when present); the fetch script reads
 * them from that prefix without decoding the payload (payloadIds).
 */
export function encodePayload(job: JobPayload): string {
  // One pass into a fresh object (spreads cost several times the stringify itself on the hot path).
  const out: Record<string, unknown> = { jid: job.jid };
  if (job.idempotency_key !== undefined) out.idempotency_key = job.idempotency_key;
  for (const key in job) {
    if (key !== 'jid' && key !== 'idempotency_key' && key !== 'queue' && key !== 'enqueued_at') out[key] = job[key as keyof JobPayload];
  }
  if (job.enqueued_at !== job.created_at) out.enqueued_at = job.enqueued_at;
  return JSON.stringify(out);
}

const OWN_PREFIX = /^\{"jid":"([^"\\]+)"(?:,"idempotency_key":"([\w-]+)")?/;

/**
 * The ids a fetch leases a payload under, as the Lua fetch reads them (scripts/lib.lua payload_ids): lagless's
 * own payloads by their prefix, any other JSON by decoding it, so a "jid" nested in args is never taken.
 */
export function payloadIds(raw: string): { jid?: string; idempotencyKey?: string } {
  const own = OWN_PREFIX.exec(raw);
  if (own) return own[2] ? { jid: own[1], idempotencyKey: own[2] } : { jid: own[1] };
  try {
    const job = JSON.parse(raw) as { jid?: unknown; idempotency_key?: unknown } | null;
    if (typeof job !== 'object' || job === null) return {};
    const key = typeof job.idempotency_key === 'string' && /^[\w-]+$/.test(job.idempotency_key) ? job.idempotency_key : undefined;
    const jid = typeof job.jid === 'string' && job.jid !== '' ? job.jid : undefined;
    return { ...(jid && { jid }), ...(key && { idempotencyKey: key }) };
  } catch {
    return {};
  }
}

export function decodePayload(raw: string, queue: string): JobPayload {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new MalformedPayloadError(`not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedPayloadError('not a JSON object');
  const job = value as Partial<JobPayload>;
  if (typeof job.jid !== 'string' || job.jid === '') throw new MalformedPayloadError('missing "jid"');
  if (typeof job.class !== 'string' || job.class === '') throw new MalformedPayloadError('missing "class"');
  if (typeof job.created_at !== 'number') throw new MalformedPayloadError('missing numeric "created_at"');
  job.queue = queue;
  job.enqueued_at ??= job.created_at;
  return job as JobPayload;
}
