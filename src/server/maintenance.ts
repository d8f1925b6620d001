import type { Logger } from 'pino';
import type { JobStore } from '../store/job-store.js';

export interface MaintenanceOptions {
  /** How often due scheduled/retry jobs are promoted and expired leases recovered. */
  maintenanceIntervalMs: number;
  /** How often orphaned dedup cookies are looked for. */
  dedupReapIntervalMs: number;
  deadMaxSize: number;
  deadMaxAgeMs: number;
}

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
      this.tick = this.runOnce().finally(() => {
        if (this.timer) this.timer = setTimeout(run, this.options.maintenanceIntervalMs);
      });
    };
    this.timer = setTimeout(run, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.tick;
  }

  async runOnce(): Promise<void> {
    const { maintenanceIntervalMs, deadMaxSize, deadMaxAgeMs, dedupReapIntervalMs } = this.options;
    const reap = this.now() - this.lastReapMs >= dedupReapIntervalMs;
    if (reap) this.lastReapMs = this.now();
    for (const queue of this.queues) {
      try {
        const result = await this.store.queueMaintain({ queue, token: this.token, nowMs: this.now(), lockMs: maintenanceIntervalMs * 3, limit: 1000, deadMaxSize, deadMaxAgeMs });
        if (result?.recovered) this.logger.warn({ queue, recovered: result.recovered }, 'recovered jobs whose lease expired (their worker stopped without finishing them)');
        if (result && reap) {
          const { released, cursor } = await this.store.dedupReap({ queue, token: this.token, nowMs: this.now(), limit: 1000, cursor: this.reapCursors.get(queue) ?? '0' });
          this.reapCursors.set(queue, cursor);
          if (released) this.logger.warn({ queue, released }, 'released dedup keys whose job no longer exists');
        }
      } catch (error) {
        this.logger.warn({ err: error, queue }, 'queue maintenance failed; retrying on the next tick');
      }
    }
  }
}
