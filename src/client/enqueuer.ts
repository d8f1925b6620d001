import { InvalidOptionError } from '../errors.js';
import { assertJsonArgs } from '../jobs/args.js';
import { newJid } from '../jobs/jid.js';
import { encodePayload, type JobPayload } from '../jobs/payload.js';
import type { EnqueueResult, WorkerDefinition } from '../jobs/worker.js';
import type { JobMetrics } from '../observability/metrics.js';
import type { JobPushParams, JobPushResult, JobStore } from '../store/job-store.js';
import type { ClientChain, EnqueueContext } from './enqueue-context.js';
import { PushCoalescer } from './push-coalescer.js';

export interface Clock {
  /** Wall time, epoch ms: stored timestamps and due times. */
  now(): number;
}

/**
 * The enqueue path: validate → client chain → one store round trip, shared by the enqueues of the same tick
 * (push-coalescer.ts). A batch runs every job through the chain, then pushes all that reached the end of it in
 * one pipelined round trip.
 */
export class Enqueuer {
  private readonly pushes: PushCoalescer;

  constructor(
    private readonly store: JobStore,
    private readonly chain: ClientChain,
    private readonly clock: Clock,
    private readonly metrics: JobMetrics,
  ) {
    this.pushes = new PushCoalescer(store);
  }

  /** Not async: an awaited enqueue passes through as few promises as it can (invalid args still reject, never throw). */
  enqueue(worker: WorkerDefinition, args: unknown, runAtMs?: number): Promise<EnqueueResult> {
    let context: EnqueueContext;
    try {
      context = this.context(worker, args, runAtMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.chain.run(context, () => this.pushOne(context));
  }

  async enqueueMany(worker: WorkerDefinition, argsList: unknown[]): Promise<EnqueueResult[]> {
    const contexts = argsList.map((args) => this.context(worker, args));
    const batch: { context: EnqueueContext; settle: (result: JobPushResult) => void; fail: (error: unknown) => void }[] = [];
    let finished = 0;
    let flushed = false;
    let failedBeforePush: unknown;
    let flush: () => void = () => {};
    const allArrived = new Promise<void>((resolve) => (flush = resolve));
    const arrived = (): void => {
      if (++finished === contexts.length) flush();
    };
    const runs = contexts.map((context) => {
      let reachedEnd = false;
      const run = this.chain.run(context, () => {
        // A middleware that calls next() after the batch went (an enqueue held until COMMIT) pushes on its own.
        if (flushed) return this.pushOne(context);
        reachedEnd = true;
        const pushed = new Promise<JobPushResult>((settle, fail) => batch.push({ context, settle, fail }));
        arrived();
        return pushed.then((result) => this.result(context, result));
      });
      return run
        .catch((error: unknown) => {
          if (!flushed) failedBeforePush ??= error;
          throw error;
        })
        .finally(() => reachedEnd || arrived());
    });
    if (contexts.length > 0) await Promise.race([allArrived, Promise.all(runs)]);
    flushed = true;
    // All or nothing: if any job of the batch was refused on its way through the chain, push none of them.
    if (failedBeforePush !== undefined) for (const entry of batch) entry.fail(failedBeforePush);
    else if (batch.length > 0) {
      try {
        const results = await this.store.jobPushMany(batch.map((entry) => this.pushParams(entry.context)));
        batch.forEach((entry, i) => entry.settle(results[i]!));
      } catch (error) {
        for (const entry of batch) entry.fail(error);
      }
    }
    return Promise.all(runs);
  }

  /**
   * Enqueue one tick of a cron schedule: the client chain as any enqueue, then a push conditional on the tick
   * (JobStore.schedulePush), so of every caller for the same tick exactly one queues a job. The others get
   * `taken`: the jid of the tick's job (their result is deduplicated against it).
   */
  async enqueueTick(worker: WorkerDefinition, args: unknown, tick: { schedule: string; tickMs: number }): Promise<EnqueueResult & { taken?: string }> {
    const context = this.context(worker, args);
    let taken: string | undefined;
    const result = await this.chain.run(context, async () => {
      const pushed = await this.store.schedulePush({ ...this.pushParams(context), ...tick });
      if (!('taken' in pushed)) return this.result(context, pushed);
      taken = pushed.taken;
      return { jid: context.job.jid, deduplicated: true, duplicateOf: pushed.taken };
    });
    return taken === undefined ? result : { ...result, taken };
  }

  private pushOne(context: EnqueueContext): Promise<EnqueueResult> {
    return this.pushes.push(this.pushParams(context, false), context.job).then((pushed) => this.result(context, pushed));
  }

  private context(worker: WorkerDefinition, args: unknown, runAtMs?: number): EnqueueContext {
    assertJsonArgs(worker.name, args);
    if (runAtMs !== undefined && !Number.isFinite(runAtMs)) throw new InvalidOptionError(`Run time for '${worker.name}' is not a valid date or delay.`);
    const nowMs = this.clock.now();
    const job: JobPayload = { jid: newJid(), class: worker.name, queue: worker.queue, args, created_at: nowMs / 1000, enqueued_at: nowMs / 1000 };
    // A time not in the future is dropped, as Sidekiq drops such an `at`: the job is pushed ready, so every
    // middleware (deduplication above all) sees it as the ready job it is, whatever call made it.
    if (runAtMs === undefined || runAtMs <= nowMs) return { worker, job };
    job.at = runAtMs / 1000;
    return { worker, job, runAtMs };
  }

  /** `encoded` false: `raw` is left empty, for the coalescer to encode the job if it sends it (push-coalescer.ts). */
  private pushParams(context: EnqueueContext, encoded = true): JobPushParams {
    const { job } = context;
    const { concurrencyLimit, rateLimit } = context.worker.options;
    const params: JobPushParams = { queue: job.queue, jid: job.jid, raw: encoded ? encodePayload(job) : '', nowMs: this.clock.now(), runAtMs: context.runAtMs, dedup: context.dedup };
    if (concurrencyLimit !== undefined || rateLimit !== undefined) params.pinned = true;
    return params;
  }

  private result(context: EnqueueContext, pushed: JobPushResult): EnqueueResult {
    context.pushResult = pushed;
    if (pushed.pushed) {
      this.metrics.enqueued.inc({ queue: context.job.queue, worker: context.worker.name });
      return pushed.duplicateOf ? { jid: pushed.jid, deduplicated: false, duplicateOf: pushed.duplicateOf } : { jid: pushed.jid, deduplicated: false };
    }
    return { jid: pushed.jid, deduplicated: true, duplicateOf: pushed.duplicateOf };
  }
}
