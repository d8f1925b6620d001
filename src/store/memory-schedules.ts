import type { ScheduleClaim, ScheduleState } from './job-store.js';

interface MemorySchedule extends ScheduleState {
  /** Latest tick claimed, per definition hash. */
  ticks: Map<string, number>;
}

/** The memory store's cron schedule state; follows scripts/schedule-claim-1.lua step by step. */
export class MemorySchedules {
  private readonly schedules = new Map<string, MemorySchedule>();

  private get(name: string): MemorySchedule {
    let schedule = this.schedules.get(name);
    if (!schedule) this.schedules.set(name, (schedule = { ticks: new Map() }));
    return schedule;
  }

  claim(p: { name: string; definition: string; tickMs: number }): ScheduleClaim {
    const schedule = this.get(p.name);
    const last = schedule.ticks.get(p.definition);
    if (last !== undefined && last >= p.tickMs) return 'taken';
    schedule.ticks.set(p.definition, p.tickMs);
    if (last === undefined) return 'first';
    return schedule.pausedAtMs !== undefined ? 'paused' : 'claimed';
  }

  record(p: { name: string; tickMs: number; jid: string; nowMs: number }): void {
    Object.assign(this.get(p.name), { lastTickMs: p.tickMs, lastRunMs: p.nowMs, lastJid: p.jid });
  }

  pause(p: { name: string; paused: boolean; nowMs: number }): void {
    const schedule = this.get(p.name);
    if (!p.paused) delete schedule.pausedAtMs;
    else schedule.pausedAtMs ??= p.nowMs;
  }

  states(names: string[]): ScheduleState[] {
    return names.map((name) => {
      const { ticks: _ticks, ...state } = this.schedules.get(name) ?? { ticks: undefined };
      return { ...state };
    });
  }
}
