import { InvalidOptionError, UnknownScheduleError } from '../errors.js';
import type { WorkerDefinition } from '../jobs/worker.js';
import type { JobStore } from '../store/job-store.js';
import { defineSchedule, type ScheduleDefinition, type ScheduleOptions } from './schedule-definition.js';

/** One schedule as `lagless cron list` and the dashboard show it. */
export interface ScheduleStatus {
  name: string;
  cron: string;
  timezone: string;
  worker: string;
  queue: string;
  enabled: boolean;
  paused: boolean;
  /** Epoch ms; null when the schedule will not fire (disabled, paused, or an expression with no further tick). */
  nextRunMs: number | null;
  lastRunMs: number | null;
  lastTickMs: number | null;
  lastJid: string | null;
}

/**
 * The app's cron schedules. They live in code: the store keeps only claims, last runs and pauses by name, so a
 * schedule removed from code simply stops (nothing stored fires it) and a changed one fires on its new ticks.
 */
export class Schedules {
  private readonly byName = new Map<string, ScheduleDefinition>();

  constructor(private readonly findWorker: (name: string) => WorkerDefinition | undefined) {}

  define(name: string, options: ScheduleOptions): ScheduleDefinition {
    const schedule = this.check(name, options);
    if (!this.findWorker(schedule.worker)) throw new InvalidOptionError(`Schedule '${name}' names worker '${schedule.worker}', which is not defined; call app.defineWorker({ name: '${schedule.worker}', ... }) before app.schedule.`);
    return this.add(schedule);
  }

  /** Validate a schedule without adding it (defineWorker({ schedule }) checks it before it stores the worker). */
  check(name: string, options: ScheduleOptions): ScheduleDefinition {
    if (this.byName.has(name)) throw new InvalidOptionError(`A schedule named '${name}' is already defined; schedule names key their stored state and must be unique.`);
    return defineSchedule(name, options);
  }

  add(schedule: ScheduleDefinition): ScheduleDefinition {
    this.byName.set(schedule.name, schedule);
    return schedule;
  }

  all(): ScheduleDefinition[] {
    return [...this.byName.values()];
  }

  get(name: string): ScheduleDefinition {
    const schedule = this.byName.get(name);
    if (!schedule) throw new UnknownScheduleError(name, [...this.byName.keys()]);
    return schedule;
  }

  async status(store: JobStore, nowMs: number): Promise<ScheduleStatus[]> {
    const schedules = this.all();
    const states = await store.scheduleStates(schedules.map((s) => s.name));
    return schedules.map((schedule, i) => {
      const state = states[i] ?? {};
      const paused = state.pausedAtMs !== undefined;
      return {
        name: schedule.name,
        cron: schedule.cron,
        timezone: schedule.timezone,
        worker: schedule.worker,
        queue: this.findWorker(schedule.worker)?.queue ?? '',
        enabled: schedule.enabled,
        paused,
        nextRunMs: schedule.enabled && !paused ? (schedule.nextTick(nowMs) ?? null) : null,
        lastRunMs: state.lastRunMs ?? null,
        lastTickMs: state.lastTickMs ?? null,
        lastJid: state.lastJid ?? null,
      };
    });
  }

  /** Pause or resume a schedule defined here; UnknownScheduleError otherwise. */
  async setPaused(store: JobStore, name: string, paused: boolean, nowMs: number): Promise<void> {
    this.get(name);
    await store.schedulePause({ name, paused, nowMs });
  }
}
