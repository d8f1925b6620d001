import type { JobEventMessage, JobEventName, JobLookup, JobLookupState } from '../store/job-records.js';

/** What `app.jobs.get` tells about one job. Times are epoch ms. */
export interface JobInfo {
  jid: string;
  queue: string;
  /** The worker name from the payload or record; undefined for a payload that is not a lagless job. */
  class: string | undefined;
  state: JobLookupState;
  /** What perform returned (completed jobs of workers with keepResult). */
  result?: unknown;
  /** The last failure (retrying or dead jobs). */
  error?: { class: string; message: string };
  /** Executions so far, the running one included. */
  attempts: number;
  /** The last `ctx.progress(value)`. */
  progress?: unknown;
  timestamps: JobTimestamps;
}

export interface JobTimestamps {
  createdAtMs?: number;
  enqueuedAtMs?: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  /** First failure (retrying and dead jobs). */
  failedAtMs?: number;
  /** When a scheduled or retrying job is due, or when a dead job died. */
  dueAtMs?: number;
}

/** An event from any process (`app.events.on`). */
export interface JobEvent {
  event: JobEventName;
  queue: string;
  jid: string;
  class: string;
  attempts: number;
  result?: unknown;
  error?: { class: string; message: string };
  atMs: number;
}

interface PayloadFields {
  class?: unknown;
  retry_count?: unknown;
  error_class?: unknown;
  error_message?: unknown;
  created_at?: unknown;
  enqueued_at?: unknown;
  failed_at?: unknown;
}

export function jobInfoOf(queue: string, jid: string, lookup: JobLookup): JobInfo {
  const progress = lookup.progress === undefined ? {} : { progress: parse(lookup.progress) };
  if (lookup.record) {
    const r = lookup.record;
    const result = r.result === undefined ? {} : { result: parse(r.result) };
    return { jid, queue, class: r.class, state: 'completed', ...result, attempts: r.attempts, ...progress, timestamps: { createdAtMs: r.createdAtMs, enqueuedAtMs: r.enqueuedAtMs, startedAtMs: r.startedAtMs, finishedAtMs: r.finishedAtMs } };
  }
  const p = (parse(lookup.raw ?? '') ?? {}) as PayloadFields;
  const retries = typeof p.retry_count === 'number' ? p.retry_count : 0;
  const error = typeof p.error_message === 'string' ? { error: { class: typeof p.error_class === 'string' ? p.error_class : 'Error', message: p.error_message } } : {};
  const timestamps: JobTimestamps = {};
  if (typeof p.created_at === 'number') timestamps.createdAtMs = Math.round(p.created_at * 1000);
  const enqueuedAt = typeof p.enqueued_at === 'number' ? p.enqueued_at : p.created_at;
  if (typeof enqueuedAt === 'number') timestamps.enqueuedAtMs = Math.round(enqueuedAt * 1000);
  if (typeof p.failed_at === 'number') timestamps.failedAtMs = Math.round(p.failed_at * 1000);
  if (lookup.score !== undefined) timestamps.dueAtMs = lookup.score;
  // A job in flight is on its (retries + 1)th execution; a waiting job has had one execution per failure so far.
  const attempts = lookup.state === 'active' ? retries + 1 : retries;
  return { jid, queue, class: typeof p.class === 'string' ? p.class : undefined, state: lookup.state, ...error, attempts, ...progress, timestamps };
}

export function jobEventOf(message: JobEventMessage): JobEvent {
  const { result, ...rest } = message;
  return result === undefined ? { ...rest } : { ...rest, result: parse(result) };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
