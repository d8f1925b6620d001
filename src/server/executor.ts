import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { JobTimeoutError, LaglessError, MalformedPayloadError, UnknownDatabaseError, UnknownWorkerError } from '../errors.js';
import { backtraceOf, backtracePolicy } from '../jobs/backtrace.js';
import { newJid } from '../jobs/jid.js';
import { decodePayload, encodePayload, type JobPayload } from '../jobs/payload.js';
import { Snooze } from '../jobs/snooze.js';
import type { JobContext, WorkerDefinition } from '../jobs/worker.js';
import { dedupPlan } from '../dedup/plan.js';
import { infoWriter, type InfoWriter } from '../observability/logger.js';
import type { JobMetrics } from '../observability/metrics.js';
import type { FetchedJob, JobAckItem, JobAckResult, JobDeadResult, JobStore } from '../store/job-store.js';
import type { ExecutionContext, ServerChain } from './execution-context.js';
import type { JobLease } from './job-lease.js';
import { JobOutcomes } from '../results/job-outcomes.js';
import { jobLogFields } from './job-log.js';
import type { LimitGate } from './limit-gate.js';
import { DEFAULT_UNKNOWN_WORKER_RETRY_MS, planUnknownWorker } from './unknown-worker.js';

export interface ExecutorDeps {
  store: JobStore;
  chain: ServerChain;
  logger: Logger;
  metrics: JobMetrics;
  findWorker: (name: string) => WorkerDefinition | undefined;
  ack: (queue: string, item: JobAckItem) => Promise<JobAckResult>;
  /** Wall clock (epoch ms) and monotonic clock (ms) — durations never use wall time. */
  now: () => number;
  monotonic: () => number;
  token: string;
  /** `ctx.db(name)`: the app's configured databases (routing comes from the load-balancing middleware). */
  db?: (name: string) => Database;
  /** How long a job whose worker is not defined here is retried before the dead set (see unknown-worker.ts). */
  unknownWorkerRetryMs?: number;
  /** Log a `start` line when a job starts, besides the line when it ends (off by default: see README, Logs). */
  logJobStart?: boolean;
  /** Concurrency and rate limits of worker classes, checked before perform. */
  limits?: LimitGate;
}

type Outcome = { kind: 'done'; value: unknown } | { kind: 'snooze'; delayMs: number } | { kind: 'fail'; error: Error };

/** Runs one fetched job through the server chain and settles it in the store exactly once. */
export class JobExecutor {
  private readonly outcomes: JobOutcomes;
  /** Writes the start and done lines, the two a job logs on its way through. */
  private readonly info: InfoWriter;

  constructor(private readonly deps: ExecutorDeps) {
    this.outcomes = new JobOutcomes(deps.store, deps.logger, deps.now);
    this.info = infoWriter(deps.logger);
  }

  async execute(queue: string, fetched: FetchedJob, lease: JobLease): Promise<void> {
    let job: JobPayload;
    try {
      job = decodePayload(fetched.raw, queue);
      // Settling goes by jid, and the store knows this job only by its lease id: a payload that names another
      // id (or the id of another job in flight) could never be settled, and would run again after every lease.
      if (job.jid !== fetched.jid) throw new MalformedPayloadError(`its "jid" ${JSON.stringify(job.jid)} is not the id it was leased under (${fetched.jid}); another job in flight may carry the same jid`);
    } catch (error) {
      return this.bury(queue, fetched.jid, unreadablePayload(fetched, error as Error), error as Error);
    }
    const worker = this.deps.findWorker(job.class);
    if (!worker) return this.unknownWorker(queue, fetched.jid, job);
    delete job.unknown_worker_since; // defined now: a later deploy gets a fresh window

    const limits = this.deps.limits;
    if (!limits?.applies(worker)) return this.perform(queue, worker, job, lease);
    if (!(await limits.admit(queue, worker, job, dedupKey(worker, job).dedupKey))) return;
    try {
      return await this.perform(queue, worker, job, lease);
    } finally {
      // A job handed back at shutdown keeps its slot for the worker that fetches it next.
      if (!lease.aborted) await limits.release(queue, worker, job.jid);
    }
  }

  private async perform(queue: string, worker: WorkerDefinition, job: JobPayload, lease: JobLease): Promise<void> {
    const { logger, metrics } = this.deps;
    const dueAt = job.at ?? job.enqueued_at;
    const latencyS = Math.max(0, this.deps.now() / 1000 - dueAt);
    metrics.latency.observe({ queue }, latencyS);
    // Building a log object costs more than the rest of a no-op job; skip it when the level is off.
    const logging = logger.isLevelEnabled('info');
    if (logging && this.deps.logJobStart) this.info(Object.assign(jobLogFields(job), { job_status: 'start', scheduling_latency_s: round(latencyS) }), 'start');

    const context: ExecutionContext = { worker, job, ctx: new ExecutionJobContext(job, logger, lease, this.deps.db, this.outcomes), logFields: {} };
    const startedAtMs = worker.options.keepResult ? this.deps.now() : 0;
    const started = this.deps.monotonic();
    const outcome = await this.runWithin(context, lease);
    lease.performed();
    const durationS = (this.deps.monotonic() - started) / 1000;
    metrics.duration.observe({ queue, worker: worker.name }, durationS);
    if (lease.aborted) {
      // stop() already handed the job back to the queue; whatever perform did after that does not count.
      logger.warn({ ...jobLogFields(job), job_status: 'interrupted', duration_s: round(durationS) }, 'interrupted by shutdown; job requeued');
      return;
    }
    const line = logging || outcome.kind !== 'done' ? endLine(job, context.logFields, durationS, latencyS) : {};
    if (outcome.kind === 'done') {
      await this.finish(worker, job, line);
      const keep = worker.options.keepResult;
      if (keep) await this.outcomes.completed(keep, job, outcome.value, startedAtMs);
      return;
    }
    if (outcome.kind === 'snooze') return this.snooze(worker, job, outcome.delayMs, line);
    return this.fail(worker, job, outcome.error, line);
  }

  /**
   * Past the worker's timeoutMs the attempt fails at once and its signal aborts; JavaScript cannot be stopped from
   * outside, so a perform that ignores the signal runs on, but whatever it does later no longer settles the job.
   */
  private runWithin(context: ExecutionContext, lease: JobLease): Promise<Outcome> {
    const timeoutMs = context.worker.options.timeoutMs;
    return timeoutMs === undefined ? this.run(context) : this.runTimed(context, lease, timeoutMs);
  }

  private async runTimed(context: ExecutionContext, lease: JobLease, timeoutMs: number): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => {
        const error = new JobTimeoutError(context.worker.name, timeoutMs);
        lease.timedOut(error);
        resolve({ kind: 'fail', error });
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.run(context), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(context: ExecutionContext): Promise<Outcome> {
    try {
      const value = await this.deps.chain.run(context, () => performOf(context));
      return value instanceof Snooze ? { kind: 'snooze', delayMs: value.delayMs } : { kind: 'done', value };
    } catch (error) {
      if (error instanceof Snooze) return { kind: 'snooze', delayMs: error.delayMs };
      return { kind: 'fail', error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  private async finish(worker: WorkerDefinition, job: JobPayload, line: Record<string, unknown>): Promise<void> {
    const item: JobAckItem = { jid: job.jid, ...strategyOf(job) };
    const plan = dedupPlan(worker);
    if (plan?.strategy === 'until_executed' && job.idempotency_key) {
      item.dedupKey = job.idempotency_key;
      const again = rescheduleOf(worker, job, this.deps.now());
      if (again) Object.assign(item, { rescheduleJid: again.jid, rescheduleRaw: again.raw, rescheduleTtlMs: again.ttlMs });
    }
    const result = await this.deps.ack(job.queue, item);
    this.deps.metrics.completed.inc({ queue: job.queue, worker: worker.name, status: 'done' });
    if (this.deps.logger.isLevelEnabled('info')) this.info(Object.assign(line, { job_status: 'done' }), 'done');
    if (!result.acked) this.deps.logger.warn({ ...jobLogFields(job) }, 'job finished after its lease was lost; it may run again (at-least-once)');
    if (result.rescheduled) this.rescheduled(worker, job, result.rescheduled, 'rescheduled once: a duplicate arrived while it ran');
  }

  private async snooze(worker: WorkerDefinition, job: JobPayload, delayMs: number, line: Record<string, unknown>): Promise<void> {
    const now = this.deps.now();
    await this.deps.store.jobRetry({ queue: job.queue, jid: job.jid, token: this.deps.token, raw: encodePayload(job), nowMs: now, runAtMs: now + Math.max(0, delayMs), kind: 'snooze', ...dedupKey(worker, job), ...strategyOf(job) });
    this.deps.metrics.completed.inc({ queue: job.queue, worker: worker.name, status: 'snoozed' });
    this.deps.logger.info({ ...line, job_status: 'snoozed', snooze_ms: delayMs }, 'snoozed');
  }

  private async fail(worker: WorkerDefinition, job: JobPayload, error: Error, line: Record<string, unknown>): Promise<void> {
    const now = this.deps.now();
    const next = failed(job, error, now);
    const count = next.retry_count!;
    const dies = count > worker.retry.max;
    const keep = backtracePolicy(worker.options.backtrace);
    const backtrace = backtraceOf(error, Math.max(keep.log, keep.retry, keep.dead));
    const stored = backtrace.slice(0, dies ? keep.dead : keep.retry);
    if (stored.length > 0) next.error_backtrace = stored;
    const params = { queue: job.queue, jid: job.jid, token: this.deps.token, raw: encodePayload(next), nowMs: now, ...dedupKey(worker, job), ...strategyOf(job) };
    // An until_executed cookie lives through retries, so the twins it absorbs count on this job succeeding: its
    // death says how many, and with reschedule_once leaves one more job for them.
    let dead: JobDeadResult | undefined;
    if (dies) {
      const reschedule = params.dedupKey ? rescheduleOf(worker, job, now) : undefined;
      dead = await this.deps.store.jobDead({ ...params, runAtMs: now, ...(reschedule ? { reschedule } : {}) });
    } else await this.deps.store.jobRetry({ ...params, runAtMs: now + worker.retry.backoffMs(count), kind: 'retry' });
    this.deps.metrics.completed.inc({ queue: job.queue, worker: worker.name, status: dies ? 'dead' : 'retry' });
    const logged = backtrace.length > 0 && keep.log > 0 ? { error_backtrace: backtrace.slice(0, keep.log) } : {};
    const absorbed = dead?.absorbed ? { dedup_absorbed: dead.absorbed, rescheduled_jid: dead.rescheduled } : {};
    this.deps.logger.warn({ ...line, job_status: 'fail', retry_count: count, error_class: next.error_class, error_message: next.error_message, ...logged, dead: dies, ...absorbed }, dies ? deadMessage(dead!) : 'failed; will retry');
    if (dead?.rescheduled) this.rescheduled(worker, job, dead.rescheduled, 'rescheduled once: the job died after absorbing duplicates');
    await this.outcomes.failed(next, dies);
  }

  private rescheduled(worker: WorkerDefinition, job: JobPayload, jid: string, message: string): void {
    this.deps.metrics.rescheduled.inc({ queue: job.queue, worker: worker.name });
    this.deps.logger.info({ ...jobLogFields(job), job_status: 'rescheduled', rescheduled_jid: jid }, message);
  }

  /** No worker of this name here (a rolling deploy, or a name removed for good): retry for a while, then dead. */
  private async unknownWorker(queue: string, jid: string, job: JobPayload): Promise<void> {
    const now = this.deps.now();
    const plan = planUnknownWorker(job, new UnknownWorkerError(job.class), now, this.deps.unknownWorkerRetryMs ?? DEFAULT_UNKNOWN_WORKER_RETRY_MS);
    // The strategy is the unknown worker's; the store settles the cookie only if this job owns it, whichever it is.
    const cookie = job.idempotency_key ? { dedupKey: job.idempotency_key } : {};
    const params = { queue, jid, token: this.deps.token, raw: encodePayload(plan.job), nowMs: now, ...cookie };
    if (plan.dead) await this.deps.store.jobDead({ ...params, runAtMs: now });
    else await this.deps.store.jobRetry({ ...params, runAtMs: plan.runAtMs, kind: 'retry' });
    this.deps.metrics.completed.inc({ queue, worker: 'unknown', status: plan.dead ? 'dead' : 'retry' });
    const fields = { ...jobLogFields(plan.job), job_status: 'fail', error_class: plan.job.error_class, error_message: plan.job.error_message, unknown_worker_since: plan.job.unknown_worker_since, dead: plan.dead };
    if (plan.dead) this.deps.logger.error(fields, 'worker still not defined after unknownWorkerRetryMs; moved to the dead set');
    else this.deps.logger.warn({ ...fields, retry_at: new Date(plan.runAtMs).toISOString() }, 'worker not defined in this process (a rolling deploy?); will retry');
  }

  private async bury(queue: string, jid: string, raw: string, error: Error): Promise<void> {
    const now = this.deps.now();
    await this.deps.store.jobDead({ queue, jid, token: this.deps.token, raw, nowMs: now, runAtMs: now });
    this.deps.metrics.completed.inc({ queue, worker: 'unknown', status: 'dead' });
    this.deps.logger.error({ jid, queue, job_status: 'fail', error_class: error.name, error_message: error.message, dead: true }, 'unrunnable job moved to the dead set');
  }
}

/**
 * `ctx` of one execution. A class, not an object literal: its getters live on the prototype, so a job costs one
 * small object instead of a literal of getters and closures (a no-op drain at concurrency 50: 38 → 32 µs of Node
 * CPU a job).
 */
class ExecutionJobContext implements JobContext {
  readonly jid: string;
  private child?: Logger;

  constructor(
    readonly job: JobPayload,
    private readonly parentLogger: Logger,
    private readonly lease: JobLease,
    private readonly databases: ExecutorDeps['db'],
    private readonly outcomes: JobOutcomes,
  ) {
    this.jid = job.jid;
  }

  get signal(): AbortSignal {
    return this.lease.signal;
  }

  get logger(): Logger {
    return (this.child ??= this.parentLogger.child({ jid: this.job.jid, class: this.job.class }));
  }

  // snooze uses no `this`; progress and db are getters returning a function, so `const { db } = ctx` works as it
  // did when ctx was a literal of closures, and a job that never calls them makes none.
  snooze(delayMs: number): Snooze {
    return new Snooze(delayMs);
  }

  get progress(): (value: unknown) => Promise<void> {
    return (value) => this.outcomes.progress(this.job, value);
  }

  get db(): (name: string) => Database {
    return (name) => {
      if (!this.databases) throw new UnknownDatabaseError(name, []);
      return this.databases(name);
    };
  }
}

/**
 * The worker's perform as the chain's last step: an async perform's promise as is (Promise.resolve returns it), a
 * sync one's value wrapped; a sync throw becomes the chain's rejection. An async wrapper would add promise hops to
 * every job.
 */
function performOf({ worker, job, ctx }: ExecutionContext): Promise<unknown> {
  return Promise.resolve(worker.options.perform(job.args, ctx));
}

/** The load-balancing decision of this execution, for the queue's shared decision counters. */
function strategyOf(job: JobPayload): { strategy?: string } {
  return job.load_balancing_strategy ? { strategy: job.load_balancing_strategy } : {};
}

function dedupKey(worker: WorkerDefinition, job: JobPayload): { dedupKey?: string } {
  return dedupPlan(worker)?.strategy === 'until_executed' && job.idempotency_key ? { dedupKey: job.idempotency_key } : {};
}

/** reschedule_once: the one more job an until_executed owner leaves for the twins it absorbed (no WAL: the store adds the cookie's). */
function rescheduleOf(worker: WorkerDefinition, job: JobPayload, nowMs: number): { jid: string; raw: string; ttlMs: number } | undefined {
  const plan = dedupPlan(worker);
  if (!plan?.rescheduleOnce || plan.strategy !== 'until_executed' || !job.idempotency_key) return undefined;
  const again: JobPayload = { jid: newJid(), idempotency_key: job.idempotency_key, class: job.class, queue: job.queue, args: job.args, created_at: job.created_at, enqueued_at: nowMs / 1000, rescheduled_once: true };
  if (job.worker_data_consistency) again.worker_data_consistency = job.worker_data_consistency;
  return { jid: again.jid, raw: encodePayload(again), ttlMs: plan.ttlMs };
}

function deadMessage(dead: JobDeadResult): string {
  if (dead.rescheduled) return `failed; moved to the dead set; rescheduled once for the ${dead.absorbed} duplicate(s) it had absorbed`;
  if (dead.absorbed > 0) return `failed; moved to the dead set; the ${dead.absorbed} duplicate(s) it had absorbed will not run (retry it from the dead set, or use ifDeduplicated: 'reschedule_once')`;
  return 'failed; moved to the dead set';
}

function failed(job: JobPayload, error: Error, nowMs: number): JobPayload {
  const count = (job.retry_count ?? 0) + 1;
  const next: JobPayload = { ...job, retry_count: count, error_class: error instanceof LaglessError ? error.name : error.constructor.name, error_message: error.message };
  delete next.error_backtrace; // the last failure's, if this one keeps any
  if (count === 1) next.failed_at = nowMs / 1000;
  else next.retried_at = nowMs / 1000;
  delete next.load_balancing_strategy;
  return next;
}

/** A payload we cannot read still goes to the dead set whole, wrapped so it carries a clear error. */
function unreadablePayload(fetched: FetchedJob, error: Error): string {
  return JSON.stringify({ jid: fetched.jid, class: '(unreadable)', args: null, created_at: 0, error_class: error.name, error_message: error.message, raw_payload: fetched.raw });
}

/** The fields of a job's last line (done, snoozed, fail), the job's own first. */
function endLine(job: JobPayload, logFields: Record<string, unknown>, durationS: number, latencyS: number): Record<string, unknown> {
  const line = Object.assign(jobLogFields(job), logFields);
  if (job.dedup_wal_locations !== undefined) line.dedup_wal_locations = job.dedup_wal_locations;
  line.duration_s = round(durationS);
  line.scheduling_latency_s = round(latencyS);
  return line;
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
