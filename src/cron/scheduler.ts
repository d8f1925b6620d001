import type { Logger } from 'pino';
import type { EnqueueResult } from '../jobs/worker.js';
import type { JobStore } from '../store/job-store.js';
import type { CronMetrics } from './cron-metrics.js';
import type { ScheduleDefinition } from './schedule-definition.js';
import type { Schedules } from './schedules.js';

export interface SchedulerDeps {
  store: JobStore;
  schedules: Schedules;
  /** Enqueue the schedule's worker with its args, through the client middleware like any enqueue. */
  enqueue: (schedule: ScheduleDefinition) => Promise<EnqueueResult>;
  logger: Logger;
  metrics: CronMetrics;
  /** Wall clock, epoch ms: ticks are wall-clock times. */
  now: () => number;
}

/**
 * Fires the app's cron schedules while a worker runs. Every `checkMs` it looks at each schedule's latest tick;
 * a tick it has not seen yet is claimed in the store, and only the one process whose claim wins enqueues it. So
 * any number of processes may run schedulers: each tick is enqueued once. After downtime only the latest missed
 * tick is due, so it fires once, not once per missed tick.
 */
export class Scheduler {
  private timer?: NodeJS.Timeout;
  private running = false;
  private pass?: Promise<void>;
  /** Latest tick this process has claimed or seen claimed, per schedule and definition: no store call until the next. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly checkMs: number,
  ) {}

  start(): void {
    this.running = true;
    const run = (): void => {
      this.pass = this.runOnce().finally(() => {
        if (this.running) this.timer = setTimeout(run, this.checkMs);
      });
    };
    this.timer = setTimeout(run, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.pass;
  }

  async runOnce(): Promise<void> {
    const nowMs = this.deps.now();
    for (const schedule of this.deps.schedules.all()) {
      if (!schedule.enabled) continue;
      const tickMs = schedule.latestTick(nowMs);
      const key = `${schedule.name}\u0000${schedule.definition}`;
      if (tickMs === undefined || (this.seen.get(key) ?? -Infinity) >= tickMs) continue;
      try {
        const claim = await this.deps.store.scheduleClaim({ name: schedule.name, definition: schedule.definition, tickMs });
        this.seen.set(key, tickMs);
        if (claim === 'claimed') await this.fire(schedule, tickMs);
        else if (claim === 'paused') {
          this.deps.metrics.ticks.inc({ schedule: schedule.name, outcome: 'paused' });
          this.deps.logger.info(this.fields(schedule, tickMs), 'cron tick passed without a job: the schedule is paused');
        } else if (claim === 'first') this.deps.logger.info({ ...this.fields(schedule, tickMs), next_run: iso(schedule.nextTick(nowMs)) }, 'cron schedule registered; it fires from its next tick');
      } catch (error) {
        this.deps.logger.warn({ ...this.fields(schedule, tickMs), err: error }, 'could not claim a cron tick; retrying on the next check');
      }
    }
  }

  private async fire(schedule: ScheduleDefinition, tickMs: number): Promise<void> {
    let result: EnqueueResult;
    try {
      result = await this.deps.enqueue(schedule);
    } catch (error) {
      this.deps.metrics.ticks.inc({ schedule: schedule.name, outcome: 'failed' });
      this.deps.logger.error({ ...this.fields(schedule, tickMs), err: error }, 'cron tick claimed but its enqueue failed; this tick is skipped, the next one fires as usual');
      return;
    }
    this.deps.metrics.ticks.inc({ schedule: schedule.name, outcome: 'enqueued' });
    this.deps.logger.info({ ...this.fields(schedule, tickMs), jid: result.jid, deduplicated: result.deduplicated }, 'cron tick enqueued');
    await this.deps.store.scheduleRecord({ name: schedule.name, tickMs, jid: result.jid, nowMs: this.deps.now() }).catch((error: unknown) => {
      this.deps.logger.warn({ ...this.fields(schedule, tickMs), err: error }, 'cron job enqueued, but its last run could not be recorded');
    });
  }

  private fields(schedule: ScheduleDefinition, tickMs: number): Record<string, unknown> {
    return { event: 'cron', schedule: schedule.name, cron: schedule.cron, worker: schedule.worker, tick: iso(tickMs), tick_ms: tickMs };
  }
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
