import type { Logger } from 'pino';
import type { ScheduleOptions } from '../cron/schedule-definition.js';
import type { Database } from '../db/database.js';
import type { BacktraceOption } from './backtrace.js';
import type { DataConsistency, JobPayload } from './payload.js';
import type { RetryPolicy } from './retry.js';
import type { Snooze } from './snooze.js';

export interface DeduplicateOptions {
  strategy?: 'until_executing' | 'until_executed' | 'none';
  includingScheduled?: boolean;
  ifDeduplicated?: 'reschedule_once';
  ttlMs?: number;
  /** Name of a feature flag; while it is off the worker does not deduplicate. */
  featureFlag?: string;
}

/** What `perform` gets besides its arguments. */
export interface JobContext {
  readonly jid: string;
  /** The payload as stored, plus fields set at execution (dedup_wal_locations, load_balancing_strategy). */
  readonly job: JobPayload;
  readonly logger: Logger;
  /**
   * Aborted when the worker shuts down and the job did not finish in time (the job is then requeued), or when the
   * attempt passes the worker's `timeoutMs` (the attempt then fails with JobTimeoutError).
   */
  readonly signal: AbortSignal;
  /** `throw ctx.snooze(ms)` (or return it): run again after `ms`, without counting a failure. */
  snooze(delayMs: number): Snooze;
  /**
   * A configured database, routed by this job's load-balancing decision: reads go to the chosen host
   * (`.pool` is its pg.Pool), the first write sends the rest of the job to the primary. Throws
   * UnknownDatabaseError for a name that is not configured.
   */
  db(name: string): Database;
  /**
   * Report progress (any JSON value, e.g. a percentage or `{ done, total }`): kept in the store while the job runs
   * and for a day after, shown in the dashboard's job details and by `app.jobs.get`. One store write per call.
   */
  progress(value: unknown): Promise<void>;
}

export interface WorkerOptions<Args> {
  /** Stable name stored in the payload as `class`; renaming it orphans queued jobs. */
  name: string;
  queue?: string;
  retry?: false | { max?: number; backoffMs?: (count: number) => number };
  /**
   * Stack lines kept with a failure (payload `error_backtrace`, the fail log line): a number of lines for retrying
   * and dead jobs, `true` for all (up to 100), `false` for none. Default: 20 lines in the dead set and the log line,
   * none while a job waits for a retry (see jobs/backtrace.ts).
   */
  backtrace?: BacktraceOption;
  perform: (args: Args, ctx: JobContext) => unknown;
  idempotent?: boolean;
  deduplicate?: DeduplicateOptions;
  /** Hash only these arguments into the idempotency key. */
  idempotencyArgs?: (args: Args) => unknown;
  dataConsistency?: DataConsistency;
  /** Feature flag gating dataConsistency; while it is off the worker behaves as 'always'. */
  dataConsistencyFlag?: string;
  /**
   * At most this many jobs of this worker run at once across all processes. Jobs over the limit wait (deferred,
   * no attempt used) and run as slots free, oldest first; a crashed worker's slots come back with its leases.
   */
  concurrencyLimit?: number;
  /** At most `max` jobs of this worker start in any `perMs` window across all processes; the others wait their turn. */
  rateLimit?: { max: number; perMs: number };
  /**
   * Keep what perform returns (JSON) for `ttlMs` after the job completes, for `app.jobs.get` / `app.jobs.wait`, and
   * publish a 'completed' event. Without it a completed job leaves nothing behind (the fastest path).
   */
  keepResult?: { ttlMs: number };
  /**
   * Longest one attempt may run, in ms: past it `ctx.signal` aborts (its reason a JobTimeoutError) and the attempt
   * fails with JobTimeoutError, retried like any failure. Default: no limit. The lease is renewed all along.
   */
  timeoutMs?: number;
  /** A cron schedule named after the worker, as `app.schedule(name, { ...schedule, worker })` (README, Cron schedules). */
  schedule?: Omit<ScheduleOptions<Args>, 'worker'>;
}

/** A defined worker as the runtime sees it: options resolved once. */
export interface WorkerDefinition<Args = unknown> {
  readonly name: string;
  readonly queue: string;
  readonly options: WorkerOptions<Args>;
  readonly retry: RetryPolicy;
}

export interface EnqueueResult {
  jid: string;
  /** True when an idempotent twin absorbed this enqueue; `duplicateOf` names the job that covers it. */
  deduplicated: boolean;
  duplicateOf?: string;
  /**
   * True when the enqueue ran inside an open `db(..).transaction()`: the job is pushed after COMMIT and
   * dropped on ROLLBACK, so `deduplicated` is not known yet (false here; a twin absorbing it after COMMIT is
   * logged and counted as usual). `jid` is the id the job gets once pushed.
   */
  heldUntilCommit?: boolean;
}

/** The handle defineWorker returns. */
export interface Worker<Args> extends WorkerDefinition<Args> {
  enqueue(args: Args): Promise<EnqueueResult>;
  enqueueIn(delayMs: number, args: Args): Promise<EnqueueResult>;
  enqueueAt(at: Date, args: Args): Promise<EnqueueResult>;
  enqueueMany(argsList: Args[]): Promise<EnqueueResult[]>;
}
