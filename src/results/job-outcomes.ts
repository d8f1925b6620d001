import type { Logger } from 'pino';
import { InvalidOptionError } from '../errors.js';
import type { JobPayload } from '../jobs/payload.js';
import type { JobStore } from '../store/job-store.js';

/**
 * What the executor tells the store beyond settling a job: the kept result and 'completed' event of a worker with
 * keepResult, the 'failed' / 'dead' event of a failure, and `ctx.progress`. A job without keepResult that
 * succeeds costs nothing here. A store error is logged: the job itself is settled already.
 */
export class JobOutcomes {
  constructor(
    private readonly store: JobStore,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** A job of a worker with keepResult completed (the caller checks: most workers have none, and skip the call). */
  async completed(keep: { ttlMs: number }, job: JobPayload, value: unknown, startedAtMs: number): Promise<void> {
    const nowMs = this.now();
    const result = this.serialise(job, value);
    const attempts = (job.retry_count ?? 0) + 1;
    const record = { state: 'completed' as const, class: job.class, ...(result === undefined ? {} : { result }), attempts, createdAtMs: Math.round(job.created_at * 1000), enqueuedAtMs: Math.round(job.enqueued_at * 1000), startedAtMs, finishedAtMs: nowMs };
    const event = { event: 'completed' as const, queue: job.queue, jid: job.jid, class: job.class, attempts, ...(result === undefined ? {} : { result }), atMs: nowMs };
    await this.send(job, () => this.store.jobFinished({ queue: job.queue, jid: job.jid, nowMs, record: { value: record, ttlMs: keep.ttlMs }, event }));
  }

  /** `failed` as the executor stored it (retry_count, error_class, error_message set). */
  async failed(failed: JobPayload, dead: boolean): Promise<void> {
    const nowMs = this.now();
    const error = { class: failed.error_class ?? 'Error', message: failed.error_message ?? '' };
    const event = { event: dead ? ('dead' as const) : ('failed' as const), queue: failed.queue, jid: failed.jid, class: failed.class, attempts: failed.retry_count ?? 1, error, atMs: nowMs };
    await this.send(failed, () => this.store.jobFinished({ queue: failed.queue, jid: failed.jid, nowMs, event }));
  }

  async progress(job: JobPayload, value: unknown): Promise<void> {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new InvalidOptionError(`ctx.progress(value) in '${job.class}' needs a JSON value: ${(error as Error).message}.`);
    }
    if (text === undefined) throw new InvalidOptionError(`ctx.progress(value) in '${job.class}' needs a JSON value such as 40 or { "done": 4, "total": 10 }; got ${typeof value}.`);
    await this.store.jobProgress({ queue: job.queue, jid: job.jid, value: text, nowMs: this.now() });
  }

  /** JSON of the result; undefined (nothing kept but the completion) for undefined or a value JSON cannot hold. */
  private serialise(job: JobPayload, value: unknown): string | undefined {
    try {
      return JSON.stringify(value);
    } catch (error) {
      this.logger.warn({ jid: job.jid, class: job.class, queue: job.queue, err: error }, `result not kept: perform returned a value that is not JSON (${(error as Error).message})`);
      return undefined;
    }
  }

  private async send(job: JobPayload, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.logger.error({ jid: job.jid, class: job.class, queue: job.queue, err: error }, `job outcome not recorded: ${(error as Error).message}`);
    }
  }
}
