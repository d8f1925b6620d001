import type { Logger } from 'pino';
import type { JobPayload } from '../jobs/payload.js';
import type { WorkerDefinition } from '../jobs/worker.js';
import type { JobMetrics } from '../observability/metrics.js';
import type { JobStore } from '../store/job-store.js';
import { decodeLimits, type WorkerLimits } from '../store/limits.js';
import { jobLogFields } from './job-log.js';

export interface LimitGateDeps {
  store: JobStore;
  logger: Logger;
  metrics: JobMetrics;
  token: string;
  now: () => number;
  /** The worker's lease length: how long a slot reserved for a promoted deferred job waits for it to be fetched. */
  reserveMs: number;
  queues: string[];
  /** How often the safety-net sweep runs (the maintenance interval). */
  sweepIntervalMs: number;
  /** Take a deferred job handed straight to this worker (leased and granted); absent = never ask for one. */
  adopt?: (queue: string, job: { jid: string; raw: string }) => void;
  /** Whether this worker takes jobs now (not stopping). */
  accepting?: () => boolean;
}

/**
 * A worker process's side of concurrency and rate limits (store/limits.ts): asks the store before perform, frees
 * the slot after the job is settled, and wakes up exactly when the rate limit lets the next deferred job start
 * (a timer at the time the store names, never a poll). A sweep every maintenance interval moves deferred jobs on
 * when no release or wake-up came (a release lost with a Redis blip, a wake-up owner that died, a reservation
 * that expired): a safety net, not the way jobs normally move.
 */
export class LimitGate {
  /** Per queue and class: the wake-up times the store gave this process (each a claim no other process holds). */
  private readonly wakeUps = new Map<string, WakeUps>();
  private sweepTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Sweeps and wake-ups under way, so stop() can wait for them before the store closes. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Jids handed over by a release: leased and granted already, so their check asks the store nothing. */
  private readonly granted = new Set<string>();

  constructor(private readonly deps: LimitGateDeps) {}

  applies(worker: WorkerDefinition): boolean {
    return limitsOf(worker) !== undefined;
  }

  /** Before perform. True: run it. False: parked until its turn, or no longer ours; nothing more to do. */
  async admit(queue: string, worker: WorkerDefinition, job: JobPayload, dedupKey?: string): Promise<boolean> {
    const { store, token, now, reserveMs, logger, metrics } = this.deps;
    const limits = limitsOf(worker)!;
    if (this.granted.delete(job.jid)) return true;
    const result = await store.limitAcquire({ queue, jid: job.jid, token, workerClass: worker.name, limits, nowMs: now(), reserveMs, ...(dedupKey ? { dedupKey } : {}) });
    if (result.outcome !== 'lost') this.wakeAt(queue, worker.name, limits, result.wakeAtMs);
    if (result.outcome === 'granted') return true;
    if (result.outcome === 'lost') {
      logger.warn({ ...jobLogFields(job) }, 'lease lost before the limit check; the job runs elsewhere');
      return false;
    }
    metrics.deferred.inc({ queue, worker: worker.name, limit: result.reason });
    if (logger.isLevelEnabled('info')) logger.info({ ...jobLogFields(job), job_status: 'deferred', limit: result.reason }, `deferred by the ${result.reason} limit; runs when its turn comes`);
    return false;
  }

  /**
   * After the job was settled: free its slot and let deferred jobs move on. Never throws (the sweep covers a
   * failure). A worker with only a rate limit holds no slot: its starts free with time, and the wake-up timer
   * moves its deferred jobs on, so it skips the call.
   */
  async release(queue: string, worker: WorkerDefinition, jid: string): Promise<void> {
    const limits = limitsOf(worker)!;
    if (limits.concurrency !== undefined) await this.releaseClass(queue, worker.name, limits, jid);
  }

  start(): void {
    const sweep = (): void => {
      void this.track(this.sweep()).finally(() => {
        if (!this.stopped) this.sweepTimer = setTimeout(sweep, this.deps.sweepIntervalMs);
      });
    };
    this.sweepTimer = setTimeout(sweep, this.deps.sweepIntervalMs);
  }

  /** No more sweeps or wake-ups; resolves when those under way are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.sweepTimer);
    for (const { timer } of this.wakeUps.values()) clearTimeout(timer);
    this.wakeUps.clear();
    await Promise.all([...this.inFlight]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  private async releaseClass(queue: string, workerClass: string, limits: WorkerLimits, jid?: string): Promise<void> {
    const { store, token, now, reserveMs, logger, adopt, accepting } = this.deps;
    // The worker whose job freed the slot takes the next deferred job itself: no ready list, fetch or check between.
    const handOver = jid && adopt && !this.stopped && (accepting?.() ?? true) ? { handOver: { leaseMs: reserveMs } } : {};
    try {
      const result = await store.limitRelease({ queue, workerClass, limits, nowMs: now(), reserveMs, ...(jid ? { jid, token } : {}), ...handOver });
      if (result.handedOver) {
        this.granted.add(result.handedOver.jid);
        adopt!(queue, result.handedOver);
      }
      this.wakeAt(queue, workerClass, limits, result.wakeAtMs);
      if (result.promoted > 0 && logger.isLevelEnabled('debug')) logger.debug({ queue, class: workerClass, promoted: result.promoted }, 'deferred jobs moved back to the ready list');
    } catch (error) {
      logger.warn({ err: error, queue, class: workerClass }, 'could not release a limit slot; the limit sweep retries within a maintenance interval');
    }
  }

  /**
   * Call limitRelease at `atMs`: the store named this process as the one to wake up for the class then. Every such
   * time is kept until it passed, not only the earliest: no other process will wake up for a claim held here.
   */
  private wakeAt(queue: string, workerClass: string, limits: WorkerLimits, atMs: number | undefined): void {
    if (atMs === undefined || this.stopped) return;
    const key = `${queue}\u0000${workerClass}`;
    let wakeUps = this.wakeUps.get(key);
    if (!wakeUps) this.wakeUps.set(key, (wakeUps = { queue, workerClass, limits, times: new Set() }));
    wakeUps.limits = limits;
    wakeUps.times.add(atMs);
    this.arm(key, wakeUps);
  }

  private arm(key: string, wakeUps: WakeUps): void {
    if (this.stopped) return;
    if (wakeUps.times.size === 0) {
      if (this.wakeUps.get(key) === wakeUps && !wakeUps.timer) this.wakeUps.delete(key);
      return;
    }
    const next = Math.min(...wakeUps.times);
    if (wakeUps.timer && wakeUps.armedAtMs === next) return;
    clearTimeout(wakeUps.timer);
    wakeUps.armedAtMs = next;
    wakeUps.timer = setTimeout(() => this.fire(key, wakeUps), Math.max(0, next - this.deps.now()));
  }

  private fire(key: string, wakeUps: WakeUps): void {
    wakeUps.timer = undefined;
    wakeUps.armedAtMs = undefined;
    const now = this.deps.now();
    const due = [...wakeUps.times].filter((atMs) => atMs <= now);
    // Timers run on a monotonic clock and may fire a millisecond before the wall clock says so: early, the store
    // would see no start free yet and, this process holding the claim, name no new time. So wait on.
    if (due.length === 0) return this.arm(key, wakeUps);
    for (const atMs of due) wakeUps.times.delete(atMs);
    void this.track(this.releaseClass(wakeUps.queue, wakeUps.workerClass, wakeUps.limits).finally(() => this.arm(key, wakeUps)));
  }

  private async sweep(): Promise<void> {
    for (const queue of this.deps.queues) {
      try {
        const usage = await this.deps.store.limitList({ queue, nowMs: this.deps.now() });
        for (const u of usage) if (u.deferred > 0) await this.releaseClass(queue, u.workerClass, u.limits);
      } catch (error) {
        this.deps.logger.warn({ err: error, queue }, 'limit sweep failed; retrying on the next interval');
      }
    }
  }
}

/** A worker's limits, or undefined when it has none. */
export function limitsOf(worker: WorkerDefinition): WorkerLimits | undefined {
  const { concurrencyLimit, rateLimit } = worker.options;
  if (concurrencyLimit === undefined && rateLimit === undefined) return undefined;
  return decodeLimits(`${concurrencyLimit ?? 0}|${rateLimit?.max ?? 0}|${rateLimit?.perMs ?? 0}`);
}

interface WakeUps {
  queue: string;
  workerClass: string;
  limits: WorkerLimits;
  times: Set<number>;
  timer?: NodeJS.Timeout;
  armedAtMs?: number;
}
