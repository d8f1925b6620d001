import type { RedisClient } from './connection.js';
import { decodeLimits, LIMIT_ENTRY_TTL_MS, type LimitAcquireParams, type LimitAcquireResult, type LimitReleaseParams, type LimitReleaseResult, type LimitUsage, type WorkerLimits } from '../store/limits.js';
import type { RedisKeys } from './keys.js';
import { execPipeline } from './pipeline.js';
import { runScript } from './scripts.js';

const REASONS = { 0: 'concurrency', 2: 'rate' } as const;

/** RedisJobStore's concurrency and rate limits (scripts/limit-*.lua; invariants in store/limits.ts). */
export class RedisLimits {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    /** Runs one call under the store's command deadline. */
    private readonly command: <T>(send: () => Promise<T>) => Promise<T>,
  ) {}

  async acquire(p: LimitAcquireParams): Promise<LimitAcquireResult> {
    const q = this.keys.queue(p.queue);
    const l = this.keys.limit(p.queue, p.workerClass);
    const keys = [q.leases, q.active, q.dedup, q.ready, q.signal, this.keys.limits(p.queue), l.running, l.reserved, l.deferred, l.starts, l.state, this.keys.parked(p.queue)];
    const args = [p.jid, p.token, p.nowMs, p.workerClass, ...limitArgs(p.limits), p.reserveMs, p.dedupKey ?? ''];
    const [code, wakeAtMs] = await this.command(() => runScript<[number, number]>(this.redis, 'limitAcquire', keys, args));
    const wake = wakeAtMs > 0 ? { wakeAtMs } : {};
    if (code === 1) return { outcome: 'granted', ...wake };
    if (code === -1) return { outcome: 'lost' };
    return { outcome: 'deferred', reason: REASONS[code as 0 | 2], ...wake };
  }

  async release(p: LimitReleaseParams): Promise<LimitReleaseResult> {
    const q = this.keys.queue(p.queue);
    const l = this.keys.limit(p.queue, p.workerClass);
    const keys = [q.active, q.ready, q.signal, l.running, l.reserved, l.deferred, l.starts, l.state, q.leases, q.dedup, this.keys.parked(p.queue), q.paused];
    const args = [p.nowMs, ...limitArgs(p.limits), p.reserveMs, p.jid ?? '', p.token ?? '', p.handOver && p.token ? p.nowMs + p.handOver.leaseMs : 0];
    const [promoted, wakeAtMs, jid, raw] = await this.command(() => runScript<[number, number, string, string]>(this.redis, 'limitRelease', keys, args));
    return { promoted, ...(wakeAtMs > 0 ? { wakeAtMs } : {}), ...(jid ? { handedOver: { jid, raw } } : {}) };
  }

  /** Jobs parked in the deferred lists of `classes` (the queue's limited classes); no round trip when none. */
  async deferredCount(queue: string, classes: string[]): Promise<number> {
    if (classes.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const workerClass of classes) pipeline.llen(this.keys.limit(queue, workerClass).deferred);
    const replies = await this.command(() => execPipeline(pipeline));
    return replies.reduce<number>((sum, n) => sum + Number(n), 0);
  }

  async list(p: { queue: string; nowMs: number }): Promise<LimitUsage[]> {
    const classes = Object.entries(await this.command(() => this.redis.hgetall(this.keys.limits(p.queue)))).sort(([a], [b]) => a.localeCompare(b));
    if (classes.length === 0) return [];
    const active = this.keys.queue(p.queue).active;
    const limitsKey = this.keys.limits(p.queue);
    const replies = await this.command(async () => {
      const pipeline = this.redis.pipeline();
      for (const [workerClass, encoded] of classes) {
        const l = this.keys.limit(p.queue, workerClass);
        runScript(pipeline, 'limitUsage', [active, l.running, l.reserved, l.deferred, l.starts, l.state, limitsKey], [p.nowMs, decodeLimits(encoded).rate?.perMs ?? 0, workerClass, p.nowMs - LIMIT_ENTRY_TTL_MS]);
      }
      return (await pipeline.exec()) ?? [];
    });
    const usage: LimitUsage[] = [];
    classes.forEach(([workerClass, encoded], i) => {
      const [error, reply] = replies[i]!;
      if (error) throw error;
      const [running, reserved, deferred, startsInWindow, deferredTotal, dropped] = reply as number[];
      if (!dropped) usage.push({ workerClass, limits: decodeLimits(encoded), running: running!, reserved: reserved!, deferred: deferred!, startsInWindow: startsInWindow!, deferredTotal: deferredTotal! });
    });
    return usage;
  }
}

function limitArgs(limits: WorkerLimits): number[] {
  return [limits.concurrency ?? 0, limits.rate?.max ?? 0, limits.rate?.perMs ?? 0];
}
