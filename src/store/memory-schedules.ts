import type { ScheduleClaim, ScheduleClaimParams, ScheduleState } from './job-store.js';

interface MemorySchedule extends ScheduleState {
  /** Latest tick claimed, per definition hash. */
  ticks: Map<string, number>;
  /** The claimed tick not yet recorded, and when its claimer's lease runs out (epoch ms). */
  lease?: { tickMs: number; untilMs: number };
}

/** The memory store's cron schedule state; follows scripts/schedule-claim-1.lua step by step. */
export class MemorySchedules {
  private readonly schedules = new Map<string, MemorySchedule>();
  /** Cron ticks pushed, per queue and schedule: the latest tick and its job's jid. */
  private readonly pushed = new Map<string, Map<string, { tickMs: number; jid: string }>>();

  private get(name: string): MemorySchedule {
    let schedule = this.schedules.get(name);
    if (!schedule) this.schedules.set(name, (schedule = { ticks: new Map() }));
    return schedule;
  }

  claim(p: ScheduleClaimParams): ScheduleClaim {
    const schedule = this.get(p.name);
    const last = schedule.ticks.get(p.definition);
    if (last !== undefined && last >= p.tickMs) {
      if (last !== p.tickMs || !p.lease || schedule.lease?.tickMs !== p.tickMs) return 'taken';
      if (schedule.lease.untilMs > p.lease.nowMs) return 'pending';
      schedule.lease = { tickMs: p.tickMs, untilMs: p.lease.nowMs + p.lease.ms };
      return 'claimed';
    }
    schedule.ticks.set(p.definition, p.tickMs);
    if (last === undefined) return 'first';
    if (schedule.pausedAtMs !== undefined) return 'paused';
    if (p.lease) schedule.lease = { tickMs: p.tickMs, untilMs: p.lease.nowMs + p.lease.ms };
    return 'claimed';
  }

  record(p: { name: string; tickMs: number; jid: string; nowMs: number }): void {
    const schedule = this.get(p.name);
    Object.assign(schedule, { lastTickMs: p.tickMs, lastRunMs: p.nowMs, lastJid: p.jid });
    if (schedule.lease?.tickMs === p.tickMs) delete schedule.lease;
  }

  /**
   * Mark a tick of a schedule pushed to a queue, unless it (or a later one) was: the jid of the tick's job when it
   * was, undefined when this caller is to push it (scripts/schedule-push-5.lua).
   */
  markPushed(p: { queue: string; schedule: string; tickMs: number; jid: string }): string | undefined {
    let marks = this.pushed.get(p.queue);
    if (!marks) this.pushed.set(p.queue, (marks = new Map()));
    const mark = marks.get(p.schedule);
    if (mark && mark.tickMs >= p.tickMs) return mark.jid;
    marks.set(p.schedule, { tickMs: p.tickMs, jid: p.jid });
    return undefined;
  }

  pause(p: { name: string; paused: boolean; nowMs: number }): void {
    const schedule = this.get(p.name);
    if (!p.paused) delete schedule.pausedAtMs;
    else schedule.pausedAtMs ??= p.nowMs;
  }

  states(names: string[]): ScheduleState[] {
    return names.map((name) => {
      const { ticks: _ticks, lease: _lease, ...state } = this.schedules.get(name) ?? { ticks: undefined };
      return { ...state };
    });
  }
}
