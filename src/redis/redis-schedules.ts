import type { ScheduleClaim, ScheduleClaimParams, ScheduleState } from '../store/job-store.js';
import { isCluster, type RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { execPipeline } from './pipeline.js';
import { runScript } from './scripts.js';

/** The Redis store's cron schedule state: one hash per schedule (see scripts/schedule-claim-1.lua); the ticks' pushes are in redis-store.ts. */
export class RedisSchedules {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    /** Bounds a call by redis.commandTimeoutMs, as every other store call. */
    private readonly command: <T>(send: () => Promise<T>) => Promise<T>,
  ) {}

  claim(p: ScheduleClaimParams): Promise<ScheduleClaim> {
    const lease = p.lease ? [p.lease.nowMs, p.lease.ms] : ['', ''];
    return this.command(() => runScript<ScheduleClaim>(this.redis, 'scheduleClaim', [this.keys.cronSchedule(p.name)], [p.definition, p.tickMs, ...lease]));
  }

  async record(p: { name: string; tickMs: number; jid: string; nowMs: number }): Promise<void> {
    await this.command(() => runScript(this.redis, 'scheduleRecord', [this.keys.cronSchedule(p.name)], [p.tickMs, p.nowMs, p.jid]));
  }

  async pause(p: { name: string; paused: boolean; nowMs: number }): Promise<void> {
    const key = this.keys.cronSchedule(p.name);
    await this.command(() => (p.paused ? this.redis.hsetnx(key, 'paused', p.nowMs) : this.redis.hdel(key, 'paused')));
  }

  async states(names: string[]): Promise<ScheduleState[]> {
    if (names.length === 0) return [];
    const fields = ['paused', 'last_tick', 'last_run', 'last_jid'];
    const replies = await this.command(async () => {
      // Each schedule has its own hash tag: on a cluster a pipeline may touch one slot only, so one read each.
      if (isCluster(this.redis)) return Promise.all(names.map((name) => this.redis.hmget(this.keys.cronSchedule(name), ...fields)));
      const pipeline = this.redis.pipeline();
      for (const name of names) pipeline.hmget(this.keys.cronSchedule(name), ...fields);
      return execPipeline(pipeline);
    });
    return replies.map((value) => {
      const [paused, lastTick, lastRun, lastJid] = value as (string | null)[];
      const state: ScheduleState = {};
      if (paused !== null) state.pausedAtMs = Number(paused);
      if (lastTick) state.lastTickMs = Number(lastTick);
      if (lastRun) state.lastRunMs = Number(lastRun);
      if (lastJid) state.lastJid = lastJid;
      return state;
    });
  }
}
