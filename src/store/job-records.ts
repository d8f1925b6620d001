/**
 * What a store keeps about a job beyond its payload: its progress while it runs, its outcome once it finished
 * (only for workers with `keepResult`), and the events other processes may listen to. Everything here is bounded:
 * records expire, events are pub/sub messages (never a stream), minute counts are kept for HISTORY_RETENTION_MS.
 */

/** The states `app.jobs.get` can report; 'completed' only for jobs whose worker keeps results. */
export type JobLookupState = 'ready' | 'scheduled' | 'retry' | 'dead' | 'active' | 'completed';

/** A job's outcome as kept under keepResult (JSON in the store). Times are epoch ms. */
export interface JobOutcomeRecord {
  state: 'completed';
  class: string;
  /** JSON text of what perform returned; absent when it returned undefined. */
  result?: string;
  attempts: number;
  createdAtMs: number;
  enqueuedAtMs: number;
  startedAtMs: number;
  finishedAtMs: number;
}

/** What the store found about one jid in one queue. */
export interface JobLookup {
  state: JobLookupState;
  /** The payload while the job is in a queue (absent once completed: only the record is left). */
  raw?: string;
  /** Due time (scheduled/retry) or time of death (dead), epoch ms. */
  score?: number;
  record?: JobOutcomeRecord;
  /** JSON text of the last `ctx.progress(value)`. */
  progress?: string;
}

/** An event published on a queue's channel; `result` and `error` as in JobInfo. */
export interface JobEventMessage {
  event: JobEventName;
  queue: string;
  jid: string;
  class: string;
  attempts: number;
  /** JSON text of the result (completed, keepResult only). */
  result?: string;
  error?: { class: string; message: string };
  atMs: number;
}

export type JobEventName = 'completed' | 'failed' | 'dead';

export interface MinuteCounts {
  /** Start of the minute, epoch ms. */
  minuteMs: number;
  processed: number;
  failed: number;
}

export const MINUTE_MS = 60_000;
/** How long per-minute counts are kept: a day of minutes, like Sidekiq's daily stats but finer and shorter. */
export const HISTORY_RETENTION_MS = 24 * 60 * MINUTE_MS;
/** Progress of a job outlives its last update by this much (a job that finishes without keepResult leaves it). */
export const PROGRESS_TTL_MS = 24 * 60 * MINUTE_MS;
/** Most ready jobs a lookup scans for a jid (from the next to run): a deeper one is reported as not found. */
export const LOOKUP_READY_SCAN = 10_000;

export function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}
