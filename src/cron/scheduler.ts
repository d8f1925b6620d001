import type { Logger } from 'pino';
import type { EnqueueResult } from '../jobs/worker.js';
import type { JobStore } from '../store/job-store.js';
import type { CronMetrics } from './cron-metrics.js';
import type { ScheduleDefinition } from './schedule-definition.js';
import type { Schedules } from './schedules.js';

export interface SchedulerDeps {
  store: JobStore;
  schedules: Schedules;
  /**
   * Enqueue one tick of the schedule's worker with its args, through the client middleware like any enqueue, with
   * a push the store makes only if the tick was not pushed yet (JobStore.schedulePush); `taken`: the jid it got then.
   */
  enqueue: (schedule: ScheduleDefinition, tickMs: number) => Promise<EnqueueResult & { taken?: string }>;
  logger: Logger;
  metrics: CronMetrics;
  /** Wall clock, epoch ms: ticks are wall-clock times. */
  now: () => number;
}

/**
 * Fires the app's cron schedules while a worker runs. Every `checkMs` it looks at each schedule's latest tick;
 * a tick it has not seen yet is claimed in the store, and only the one process whose claim wins enqueues it. After
 * downtime only the latest missed tick is due, so it fires once, not once per missed tick.
 *
 * Exactly once, even when a claimer dies: claim and enqueue are two store steps (the claim is in the schedule's
 * slot, the push in the queue's), so a claim alone would lose the tick of a process killed between them. The claim
 * therefore holds a lease (`leaseMs`) until the tick's job is recorded; a tick still pending when its lease runs out
 * is claimed again by the next scheduler to look. That takeover may race a claimer that was only slow, so the push
 * itself is conditional on the tick (JobStore.schedulePush marks the tick in the queue's slot in the same step):
 * whichever of them pushes first enqueues the tick, the other is told it was taken and pushes nothing. (Pushing in
 * the claim's own step instead would tie every schedule's key to its queue's slot and bypass the push path.)
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
    /** How long a claimed tick waits for its claimer's enqueue before another scheduler takes it over. */
    private readonly leaseMs: number,
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
        const claim = await this.deps.store.scheduleClaim({ name: schedule.name, definition: schedule.definition, tickMs, lease: { nowMs, ms: this.leaseMs } });
        // A pending tick (or one whose enqueue failed here) is asked about again until its lease runs out.
        if (claim === 'pending') continue;
        if (claim === 'claimed') {
          if (await this.fire(schedule, tickMs)) this.seen.set(key, tickMs);
          continue;
        }
        this.seen.set(key, tickMs);
        if (claim === 'paused') {
          this.deps.metrics.ticks.inc({ schedule: schedule.name, outcome: 'paused' });
          this.deps.logger.info(this.fields(schedule, tickMs), 'cron tick passed without a job: the schedule is paused');
        } else if (claim === 'first') this.deps.logger.info({ ...this.fields(schedule, tickMs), next_run: iso(schedule.nextTick(nowMs)) }, 'cron schedule registered; it fires from its next tick');
      } catch (error) {
        this.deps.logger.warn({ ...this.fields(schedule, tickMs), err: error }, 'could not claim a cron tick; retrying on the next check');
      }
    }
  }

  /** Enqueue a claimed tick and record it; false if the enqueue failed (the tick is retried when its lease ends). */
  private async fire(schedule: ScheduleDefinition, tickMs: number): Promise<boolean> {
    let result: EnqueueResult & { taken?: string };
    try {
      result = await this.deps.enqueue(schedule, tickMs);
    } catch (error) {
      this.deps.metrics.ticks.inc({ schedule: schedule.name, outcome: 'failed' });
      this.deps.logger.error({ ...this.fields(schedule, tickMs), err: error, retry_after_ms: this.leaseMs }, 'cron tick claimed but its enqueue failed; a scheduler retries it when its claim lapses');
      return false;
    }
    const jid = result.taken ?? result.jid;
    if (result.taken === undefined) {
      this.deps.metrics.ticks.inc({ schedule: schedule.name, outcome: 'enqueued' });
      this.deps.logger.info({ ...this.fields(schedule, tickMs), jid, deduplicated: result.deduplicated }, 'cron tick enqueued');
    } else this.deps.logger.info({ ...this.fields(schedule, tickMs), jid }, 'cron tick already enqueued by another scheduler (its claim lapsed and was taken over); nothing enqueued');
    await this.deps.store.scheduleRecord({ name: schedule.name, tickMs, jid, nowMs: this.deps.now() }).catch((error: unknown) => {
      this.deps.logger.warn({ ...this.fields(schedule, tickMs), err: error }, 'cron job enqueued, but its last run could not be recorded');
    });
    return true;
  }

  private fields(schedule: ScheduleDefinition, tickMs: number): Record<string, unknown> {
    return { event: 'cron', schedule: schedule.name, cron: schedule.cron, worker: schedule.worker, tick: iso(tickMs), tick_ms: tickMs };
  }
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
