import type { Logger } from 'pino';
import type { JobStore, QueueMaintainResult } from '../store/job-store.js';

export interface MaintenanceOptions {
  /** How often due scheduled/retry jobs are promoted and expired leases recovered. */
  maintenanceIntervalMs: number;
  /** How often orphaned dedup cookies are looked for. */
  dedupReapIntervalMs: number;
  deadMaxSize: number;
  deadMaxAgeMs: number;
}

/**
 * Jobs one maintenance step moves per set: bounds how long one script holds Redis (a few ms). A step that comes
 * back full is followed by the next at once, so a backlog of due jobs drains as fast as Redis moves them, not
 * at STEP_LIMIT per interval.
 */
export const STEP_LIMIT = 1000;

/**
 * Due jobs are promoted while the ready list holds fewer than this: a backlog of due jobs is moved a little ahead of
 * the workers rather than all at once, where each step's hold on Redis slows the workers' fetches and acks (200,000
 * jobs due at once: promoted in 1.2 s while workers ran at a third of their speed). A due job may then be
 * overtaken by jobs enqueued while the ready list is this long.
 */
export const READY_CAP = 10 * STEP_LIMIT;

/**
 * Shortest wait before a pass that follows a job coming due: jobs due within a few ms of one another are promoted
 * together, and a queue of jobs spread one per millisecond costs at most 100 passes a second per process.
 */
const DUE_WAKE_MIN_MS = 10;

export const MAINTENANCE_DEFAULTS: MaintenanceOptions = {
  maintenanceIntervalMs: 1000,
  dedupReapIntervalMs: 60_000,
  deadMaxSize: 10_000,
  deadMaxAgeMs: 180 * 24 * 60 * 60 * 1000,
};

/**
 * Queue upkeep for the queues a worker serves. Every worker runs this loop, but the store's per-queue lock lets
 * only one of them do the work at a time; the others' calls return at once.
 */
export class Maintenance {
  private readonly options: MaintenanceOptions;
  private timer?: NodeJS.Timeout;
  private tick?: Promise<void>;
  private lastReapMs = 0;
  private stopping = false;
  /** Where each queue's next reap pass resumes, so every cookie is looked at in turn. */
  private readonly reapCursors = new Map<string, string>();

  constructor(
    private readonly store: JobStore,
    private readonly logger: Logger,
    private readonly token: string,
    private readonly queues: string[],
    private readonly now: () => number,
    options: Partial<MaintenanceOptions>,
  ) {
    this.options = { ...MAINTENANCE_DEFAULTS, ...options };
  }

  start(): void {
    this.lastReapMs = this.now();
    const run = (): void => {
      this.tick = this.runOnce().then((delayMs) => {
        if (this.timer) this.timer = setTimeout(run, delayMs);
      });
    };
    this.timer = setTimeout(run, 0);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.tick;
  }

  /**
   * One pass over every queue. Returns the ms until the next pass: the interval, or less when a scheduled or
   * retrying job comes due sooner, so due jobs are promoted on time rather than up to an interval late.
   */
  async runOnce(): Promise<number> {
    const { dedupReapIntervalMs, maintenanceIntervalMs } = this.options;
    const reap = this.now() - this.lastReapMs >= dedupReapIntervalMs;
    if (reap) this.lastReapMs = this.now();
    let nextDueMs = Infinity;
    for (const queue of this.queues) {
      try {
        const result = await this.maintain(queue);
        if (result?.nextDueMs !== undefined) nextDueMs = Math.min(nextDueMs, result.nextDueMs);
        if (result?.recovered) this.logger.warn({ queue, recovered: result.recovered }, 'recovered jobs whose lease expired (their worker stopped without finishing them)');
        if (result && reap) {
          const { released, cursor } = await this.store.dedupReap({ queue, token: this.token, nowMs: this.now(), limit: STEP_LIMIT, cursor: this.reapCursors.get(queue) ?? '0' });
          this.reapCursors.set(queue, cursor);
          if (released) this.logger.warn({ queue, released }, 'released dedup keys whose job no longer exists');
        }
      } catch (error) {
        this.logger.warn({ err: error, queue }, 'queue maintenance failed; retrying on the next tick');
      }
    }
    return Math.min(maintenanceIntervalMs, Math.max(DUE_WAKE_MIN_MS, nextDueMs - this.now()));
  }

  /**
   * Steps on one queue until one comes back short of the limit (or another process holds the lock, or stop()).
   * Between steps other clients get Redis, so a large backlog never blocks it for more than one step.
   */
  private async maintain(queue: string): Promise<QueueMaintainResult | undefined> {
    const { maintenanceIntervalMs, deadMaxSize, deadMaxAgeMs } = this.options;
    let total: QueueMaintainResult | undefined;
    for (;;) {
      const step = await this.store.queueMaintain({ queue, token: this.token, nowMs: this.now(), lockMs: maintenanceIntervalMs * 3, limit: STEP_LIMIT, readyCap: READY_CAP, deadMaxSize, deadMaxAgeMs });
      if (!step) return total;
      total = total ? { promoted: total.promoted + step.promoted, recovered: total.recovered + step.recovered, trimmed: total.trimmed + step.trimmed, nextDueMs: step.nextDueMs } : step;
      const full = step.promoted >= STEP_LIMIT || step.recovered >= STEP_LIMIT || step.trimmed >= STEP_LIMIT;
      if (!full || this.stopping) return total;
    }
  }
}
