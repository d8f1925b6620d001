import { payloadIds } from '../jobs/payload.js';
import { Deque } from './deque.js';
import type { CookieJar } from './memory-cookies.js';
import { declaredAtOf, decodeLimits, encodeLimits, LIMIT_ENTRY_TTL_MS, STALE_SCAN_MS, type LimitAcquireParams, type LimitAcquireResult, type LimitReleaseParams, type LimitReleaseResult, type LimitUsage, type WorkerLimits } from './limits.js';

/** What the limits need of a memory queue. */
export interface LimitedQueueView {
  /** In-flight jobs: lease id → holder token and payload. */
  active: Map<string, { raw: string; token: string }>;
  cookies: CookieJar;
  /** Put a payload at the head of the ready list (next to be fetched) and wake waiting workers. */
  readyFront(raw: string): void;
  /** Lease a payload to `token` as a fetch would (dedup cookie included); returns the payload handed out. */
  lease(jid: string, raw: string, token: string, expiresAtMs: number, nowMs: number): string;
  /** Whether the queue is paused: then nothing is handed over (the fetch passes its ready jobs over). */
  paused(): boolean;
}

interface ClassState {
  running: Map<string, number>;
  reserved: Map<string, number>;
  deferred: Deque<string>;
  /** Start times, oldest first. */
  starts: number[];
  wakeMs: number;
  scanMs: number;
  deferredTotal: number;
}

/** One class during one call: its state, limits and clock, as the L table of the Lua helpers. */
interface Call {
  s: ClassState;
  q: LimitedQueueView;
  concurrency: number;
  max: number;
  perMs: number;
  reserveMs: number;
  now: number;
}

/** MemoryJobStore's concurrency and rate limits: the Lua of redis/scripts/limit-*.lua step by step (store/limits.ts). */
export class MemoryLimits {
  /** Queue → class → encoded limits (the Redis `limits` hash). */
  private readonly registry = new Map<string, Map<string, string>>();
  private readonly classes = new Map<string, ClassState>();
  /** Queue → jids parked by a limit until a worker checks them again (the Redis `parked` hash): alive for the dedup reaper. */
  private readonly parked = new Map<string, Set<string>>();

  isParked(queue: string, jid: string): boolean {
    return this.parked.get(queue)?.has(jid) ?? false;
  }

  /** Jobs parked in the queue's deferred lists, all classes together. */
  deferredCount(queue: string): number {
    let count = 0;
    for (const workerClass of this.registry.get(queue)?.keys() ?? []) count += this.state(queue, workerClass).deferred.length;
    return count;
  }

  private state(queue: string, workerClass: string): ClassState {
    const key = classKey(queue, workerClass);
    let s = this.classes.get(key);
    if (!s) this.classes.set(key, (s = { running: new Map(), reserved: new Map(), deferred: new Deque(), starts: [], wakeMs: 0, scanMs: 0, deferredTotal: 0 }));
    return s;
  }

  private call(q: LimitedQueueView, p: { queue: string; workerClass: string; limits: WorkerLimits; nowMs: number; reserveMs: number }): Call {
    const { limits } = p;
    return { s: this.state(p.queue, p.workerClass), q, concurrency: limits.concurrency ?? 0, max: limits.rate?.max ?? 0, perMs: limits.rate?.perMs ?? 0, reserveMs: p.reserveMs, now: p.nowMs };
  }

  acquire(q: LimitedQueueView, p: LimitAcquireParams): LimitAcquireResult {
    const held = q.active.get(p.jid);
    if (!held || held.token !== p.token) return { outcome: 'lost' };
    let classes = this.registry.get(p.queue);
    if (!classes) this.registry.set(p.queue, (classes = new Map()));
    classes.set(p.workerClass, encodeLimits(p.limits, p.nowMs));
    let parked = this.parked.get(p.queue);
    if (!parked) this.parked.set(p.queue, (parked = new Set()));
    parked.delete(p.jid);
    const c = this.call(q, p);
    prune(c);
    const reserved = c.s.reserved.has(p.jid);
    const holds = c.concurrency > 0 && c.s.running.has(p.jid);
    promote(c);
    const reason = reserved ? undefined : blocked(c, holds);
    if (reason) {
      q.active.delete(p.jid);
      c.s.deferred.pushBack(held.raw);
      c.s.deferredTotal++;
      parked.add(p.jid);
      const cookie = p.dedupKey ? q.cookies.get(p.dedupKey, p.nowMs) : undefined;
      if (cookie?.owner === p.jid) Object.assign(cookie, { executing: false, absorbedWhileExecuting: 0 });
      if (holds) {
        c.s.running.delete(p.jid);
        promote(c);
      }
      return withWake({ outcome: 'deferred', reason }, wake(c));
    }
    c.s.reserved.delete(p.jid);
    if (c.concurrency > 0) c.s.running.set(p.jid, c.now);
    if (c.max > 0) c.s.starts.push(c.now);
    return withWake({ outcome: 'granted' }, wake(c));
  }

  release(q: LimitedQueueView, p: LimitReleaseParams): LimitReleaseResult {
    const c = this.call(q, p);
    if (p.jid) {
      const held = q.active.get(p.jid);
      if (!held || held.token === p.token) c.s.running.delete(p.jid);
    }
    prune(c);
    let handedOver: { jid: string; raw: string } | undefined;
    if (p.handOver && p.token && !q.paused() && c.s.deferred.length > 0 && !blocked(c, false)) {
      const raw = c.s.deferred.slice(0, 1)[0]!;
      const jid = payloadIds(raw).jid;
      if (jid && !q.active.has(jid)) {
        c.s.deferred.popFront();
        this.parked.get(p.queue)?.delete(jid);
        handedOver = { jid, raw: q.lease(jid, raw, p.token, p.nowMs + p.handOver.leaseMs, p.nowMs) };
        if (c.concurrency > 0) c.s.running.set(jid, c.now);
        if (c.max > 0) c.s.starts.push(c.now);
      }
    }
    const promoted = promote(c) + (handedOver ? 1 : 0);
    return withWake({ promoted, ...(handedOver ? { handedOver } : {}) }, wake(c));
  }

  /** As limit-usage-7.lua: an entry idle past LIMIT_ENTRY_TTL_MS that holds no job is dropped, not listed. */
  list(q: LimitedQueueView, p: { queue: string; nowMs: number }): LimitUsage[] {
    const registry = this.registry.get(p.queue);
    const usage: LimitUsage[] = [];
    for (const [workerClass, encoded] of [...(registry ?? [])].sort(([a], [b]) => a.localeCompare(b))) {
      const limits = decodeLimits(encoded);
      const s = this.state(p.queue, workerClass);
      const perMs = limits.rate?.perMs ?? 0;
      const running = [...s.running.keys()].filter((jid) => q.active.has(jid)).length;
      if (declaredAtOf(encoded) < p.nowMs - LIMIT_ENTRY_TTL_MS && running + s.reserved.size + s.deferred.length === 0) {
        registry!.delete(workerClass);
        this.classes.delete(classKey(p.queue, workerClass));
        continue;
      }
      usage.push({
        workerClass,
        limits,
        running,
        reserved: s.reserved.size,
        deferred: s.deferred.length,
        startsInWindow: perMs > 0 ? s.starts.filter((t) => t > p.nowMs - perMs).length : 0,
        deferredTotal: s.deferredTotal,
      });
    }
    return usage;
  }
}

function classKey(queue: string, workerClass: string): string {
  return `${queue}\u0000${workerClass}`;
}

function prune(c: Call): void {
  for (const [jid, at] of c.s.reserved) if (at <= c.now - c.reserveMs) c.s.reserved.delete(jid);
  if (c.max > 0) while (c.s.starts.length > 0 && c.s.starts[0]! <= c.now - c.perMs) c.s.starts.shift();
}

function slotsUsed(c: Call): number {
  let used = c.s.running.size + c.s.reserved.size;
  if (used < c.concurrency || c.now - c.s.scanMs < STALE_SCAN_MS) return used;
  c.s.scanMs = c.now;
  for (const jid of c.s.running.keys()) {
    if (!c.q.active.has(jid)) {
      c.s.running.delete(jid);
      used--;
    }
  }
  return used;
}

function blocked(c: Call, holdsSlot: boolean): 'concurrency' | 'rate' | undefined {
  if (c.concurrency > 0 && !holdsSlot && slotsUsed(c) >= c.concurrency) return 'concurrency';
  if (c.max > 0 && c.s.starts.length + c.s.reserved.size >= c.max) return 'rate';
  return undefined;
}

function promote(c: Call): number {
  const moved: string[] = [];
  while (c.s.deferred.length > 0 && !blocked(c, false)) {
    const raw = c.s.deferred.popFront()!;
    c.s.reserved.set(payloadIds(raw).jid ?? '', c.now);
    moved.push(raw);
  }
  for (let i = moved.length - 1; i >= 0; i--) c.q.readyFront(moved[i]!);
  return moved.length;
}

function wake(c: Call): number {
  if (c.max === 0 || c.s.deferred.length === 0) return 0;
  if (c.s.starts.length + c.s.reserved.size < c.max) return 0;
  let at = c.s.starts.length > 0 ? c.s.starts[0]! + c.perMs : c.now + c.perMs;
  for (const reservedAt of c.s.reserved.values()) at = Math.min(at, reservedAt + c.reserveMs);
  if (c.s.wakeMs > c.now && c.s.wakeMs <= at) return 0;
  c.s.wakeMs = at;
  return at;
}

function withWake<T extends object>(result: T, wakeAtMs: number): T & { wakeAtMs?: number } {
  return wakeAtMs > 0 ? { ...result, wakeAtMs } : result;
}
