import { createHash } from 'node:crypto';
import { payloadIds } from '../jobs/payload.js';
import { CookieJar, raiseWal, type MemoryCookie } from './memory-cookies.js';
import { Deque } from './deque.js';
import type { LimitAcquireParams, LimitAcquireResult, LimitReleaseParams, LimitReleaseResult, LimitUsage } from './limits.js';
import { MemoryLimits, type LimitedQueueView } from './memory-limits.js';
import { LOOKUP_READY_SCAN, type JobEventMessage, type JobLookup, type JobOutcomeRecord, type MinuteCounts } from './job-records.js';
import { MemoryJobRecords } from './memory-job-records.js';
import { MemorySchedules } from './memory-schedules.js';
import {
  FETCH_MAX,
  FETCHES_IN_FLIGHT,
  holdsJobs,
  isDueNow,
  type DedupCookie,
  type FetchedJob,
  type JobAckItem,
  type JobAckResult,
  type JobDeadParams,
  type JobDeadResult,
  type JobFetchParams,
  type JobFetchManyParams,
  type FetchedQueueJob,
  type JobLaterParams,
  type JobPushParams,
  type JobPushResult,
  type JobState,
  type JobStore,
  type QueueRemoveResult,
  type LeaseRenewResult,
  type QueueMaintainParams,
  type QueueCounters,
  type QueueMaintainResult,
  type QueueSizes,
  type ScheduleClaim,
  type ScheduleClaimParams,
  type ScheduleState,
  type StoredJob,
} from './job-store.js';

interface Entry {
  raw: string;
  score: number;
}

interface MemoryQueue {
  ready: Deque<string>;
  schedule: Map<string, Entry>;
  retry: Map<string, Entry>;
  dead: Map<string, Entry>;
  active: Map<string, Entry & { token: string }>;
  cookies: CookieJar;
  lock?: { token: string; expiresAtMs: number };
  waiters: Set<() => void>;
  counters: QueueCounters;
  /**
   * Each worker token's unanswered fetches with this queue first (JobFetchParams.openFetchIds; else its last
   * FETCHES_IN_FLIGHT), newest first, so a fetch repeated with the same id leases nothing twice.
   */
  lastFetch: Map<string, { id: string; jobs: { queue: string; jid: string }[] }[]>;
  /** Epoch ms of the pause while the queue is paused. */
  pausedAt?: number;
}

/** Like the Lua fetch: write the cookie's WAL into the payload; a payload that is not JSON stays as it is. */
function withDedupWal(raw: string, wal: Record<string, string>): string {
  try {
    return JSON.stringify({ ...JSON.parse(raw), dedup_wal_locations: { ...wal } });
  } catch {
    return raw;
  }
}

/** `count` enqueues absorbed by the cookie's owner (push-many-4.lua's absorb, one job or folded twins at once). */
function absorb(queue: MemoryQueue, cookie: MemoryCookie, count: number): void {
  cookie.absorbed += count;
  queue.counters.deduplicated += count;
  if (cookie.executing) cookie.absorbedWhileExecuting += count;
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function countDecision(counters: QueueCounters, strategy: string): void {
  counters.decisions[strategy] = (counters.decisions[strategy] ?? 0) + 1;
}

/** Entries due at `nowMs`, earliest first; sorting only the due ones keeps a step cheap beside a long schedule. */
function dueByScore(set: Map<string, Entry>, nowMs: number): [string, Entry][] {
  return [...set].filter(([, e]) => e.score <= nowMs).sort((a, b) => a[1].score - b[1].score);
}

function byScore(set: Map<string, Entry>): [string, Entry][] {
  return [...set].sort((a, b) => a[1].score - b[1].score);
}

/**
 * Single-process JobStore: the embedded default and a testing mode. It follows the Lua scripts step by step
 * (same jid extraction, same cookie rules) and passes the same conformance suite as RedisJobStore.
 */
export class MemoryJobStore implements JobStore {
  private readonly queues = new Map<string, MemoryQueue>();
  /** Queues a successful write registered (queueList); reading a queue only creates its empty state. */
  private readonly registered = new Set<string>();
  private readonly limits = new MemoryLimits();
  private readonly records = new MemoryJobRecords();
  private readonly schedules = new MemorySchedules();

  private q(name: string): MemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = { ready: new Deque(), schedule: new Map(), retry: new Map(), dead: new Map(), active: new Map(), cookies: new CookieJar(), waiters: new Set(), counters: { processed: 0, failed: 0, deduplicated: 0, rescheduled: 0, decisions: {} }, lastFetch: new Map() };
      this.queues.set(name, queue);
    }
    return queue;
  }

  private makeReady(queue: MemoryQueue, raw: string, front = false): void {
    if (front) queue.ready.pushFront(raw);
    else queue.ready.pushBack(raw);
    if (queue.pausedAt === undefined) this.wake(queue);
  }

  private wake(queue: MemoryQueue): void {
    for (const wake of queue.waiters) wake();
    queue.waiters.clear();
  }

  async jobPush(p: JobPushParams): Promise<JobPushResult> {
    const queue = this.q(p.queue);
    this.registered.add(p.queue);
    const push = (raw: string): void => {
      if (!isDueNow(p)) queue.schedule.set(p.jid, { raw, score: p.runAtMs! });
      else this.makeReady(queue, raw);
    };
    const d = p.dedup;
    if (!d) {
      push(p.raw);
      return { pushed: true, jid: p.jid };
    }
    let cookie = queue.cookies.get(d.key, p.nowMs);
    let result: JobPushResult;
    if (!cookie) {
      queue.cookies.set(d.key, (cookie = { strategy: d.strategy, owner: p.jid, absorbed: 0, executing: false, absorbedWhileExecuting: 0, wal: { ...d.wal }, expiresAtMs: p.nowMs + d.ttlMs }));
      push(p.raw);
      result = { pushed: true, jid: p.jid };
    } else if (!d.idempotent) {
      push(`{"duplicate-of":"${cookie.owner}",${p.raw.slice(1)}`);
      result = { pushed: true, jid: p.jid, duplicateOf: cookie.owner };
    } else {
      absorb(queue, cookie, 1);
      result = { pushed: false, jid: p.jid, duplicateOf: cookie.owner, walRaised: d.preserveLatestWal && d.wal ? raiseWal(cookie, d.wal) : [] };
    }
    // Folded twins (JobPushParams.twins): each absorbed right after this push, by the cookie it claimed or met.
    if (p.twins) absorb(queue, cookie, p.twins);
    return result;
  }

  async jobPushMany(params: JobPushParams[]): Promise<JobPushResult[]> {
    const results: JobPushResult[] = [];
    for (const p of params) results.push(await this.jobPush(p));
    return results;
  }

  async jobPushEach(params: JobPushParams[]): Promise<(JobPushResult | Error)[]> {
    const results: (JobPushResult | Error)[] = [];
    for (const p of params) results.push(await this.jobPush(p).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
    return results;
  }

  async jobFetch({ queue, ...p }: JobFetchParams): Promise<FetchedJob[]> {
    return (await this.jobFetchMany({ ...p, queues: [queue] })).map(({ jid, raw }) => ({ jid, raw }));
  }

  async jobFetchMany(p: JobFetchManyParams): Promise<FetchedQueueJob[]> {
    const queues = p.queues.map((name) => [name, this.q(name)] as const);
    // As in the Lua: the memo is kept with the first queue, and a resend comes with the same queues in the same order.
    const memos = queues[0]?.[1].lastFetch;
    const last = p.fetchId === undefined ? undefined : memos?.get(p.token)?.find((memo) => memo.id === p.fetchId);
    if (last) {
      return last.jobs.flatMap(({ queue: name, jid }) => {
        const held = this.queues.get(name)?.active.get(jid);
        return held?.token === p.token ? [{ queue: name, jid, raw: held.raw }] : [];
      });
    }
    const jobs: FetchedQueueJob[] = [];
    const max = Math.min(p.count, FETCH_MAX);
    for (const [name, queue] of queues) {
      if (queue.pausedAt !== undefined) continue;
      while (jobs.length < max) {
        const raw = queue.ready.popFront();
        if (raw === undefined) break;
        jobs.push({ queue: name, ...this.lease(queue, raw, p) });
      }
    }
    if (p.fetchId !== undefined && jobs.length > 0) {
      const memo = { id: p.fetchId, jobs: jobs.map(({ queue, jid }) => ({ queue, jid })) };
      const earlier = memos!.get(p.token) ?? [];
      const open = p.openFetchIds;
      memos!.set(p.token, [memo, ...(open ? earlier.filter((m) => open.includes(m.id)) : earlier.slice(0, FETCHES_IN_FLIGHT - 1))]);
    }
    return jobs;
  }

  /** Like the Lua fetch, for one job just taken off the ready list. */
  private lease(queue: MemoryQueue, raw: string, p: { token: string; leaseMs: number; nowMs: number }): FetchedJob {
    const ids = payloadIds(raw);
    let jid = ids.jid ?? `unreadable-${sha1(raw)}`;
    if (queue.active.has(jid)) jid = `${jid}#${sha1(raw)}`;
    const key = ids.idempotencyKey;
    const cookie = key ? queue.cookies.get(key, p.nowMs) : undefined;
    let handed = raw;
    if (key && cookie?.owner === jid) {
      if (Object.keys(cookie.wal).length > 0) handed = withDedupWal(raw, cookie.wal);
      if (cookie.strategy === 'until_executing') queue.cookies.delete(key);
      else Object.assign(cookie, { executing: true, absorbedWhileExecuting: 0 });
    }
    queue.active.set(jid, { raw: handed, score: p.nowMs + p.leaseMs, token: p.token });
    return { jid, raw: handed };
  }

  async jobWait(params: { queues: string[]; timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const queues = params.queues.map((name) => this.q(name));
    // A paused queue's jobs wake nobody: queueResume does.
    if (params.signal?.aborted || queues.some((queue) => queue.ready.length > 0 && queue.pausedAt === undefined)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const queue of queues) queue.waiters.delete(done);
        params.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, params.timeoutMs);
      for (const queue of queues) queue.waiters.add(done);
      params.signal?.addEventListener('abort', done, { once: true });
    });
  }

  async jobAck(params: { queue: string; token: string; jobs: JobAckItem[]; nowMs: number }): Promise<JobAckResult[]> {
    const queue = this.q(params.queue);
    for (const job of params.jobs) if (job.strategy) countDecision(queue.counters, job.strategy);
    return params.jobs.map((job) => {
      const held = queue.active.get(job.jid);
      if (!held || held.token !== params.token) return { jid: job.jid, acked: false };
      queue.active.delete(job.jid);
      queue.counters.processed++;
      this.records.count(params.queue, 'processed', 1, params.nowMs);
      const cookie = job.dedupKey ? queue.cookies.get(job.dedupKey, params.nowMs) : undefined;
      if (!job.dedupKey || cookie?.owner !== job.jid) return { jid: job.jid, acked: true };
      if (!job.rescheduleRaw || !job.rescheduleJid || cookie.absorbedWhileExecuting === 0) {
        queue.cookies.delete(job.dedupKey);
        return { jid: job.jid, acked: true };
      }
      this.reschedule(queue, job.dedupKey, cookie, { jid: job.rescheduleJid, raw: job.rescheduleRaw, ttlMs: job.rescheduleTtlMs ?? 0 }, params.nowMs);
      return { jid: job.jid, acked: true, rescheduled: job.rescheduleJid };
    });
  }

  /** Push `again` ready with the cookie's latest WAL and hand it the cookie (reschedule_once). */
  private reschedule(queue: MemoryQueue, key: string, cookie: MemoryCookie, again: { jid: string; raw: string; ttlMs: number }, nowMs: number): void {
    const wal = Object.keys(cookie.wal).length > 0 ? `,"wal_locations":${JSON.stringify(cookie.wal)}}` : '}';
    this.makeReady(queue, again.raw.slice(0, -1) + wal);
    queue.cookies.set(key, { ...cookie, owner: again.jid, absorbed: 0, executing: false, absorbedWhileExecuting: 0, wal: { ...cookie.wal }, expiresAtMs: nowMs + again.ttlMs });
    queue.counters.rescheduled++;
  }

  async jobRetry(p: JobLaterParams & { kind: 'retry' | 'snooze' }): Promise<boolean> {
    const queue = this.q(p.queue);
    return this.later(queue, p, p.kind === 'retry' ? queue.retry : queue.schedule, false).moved;
  }

  async jobDead(p: JobDeadParams): Promise<JobDeadResult> {
    const queue = this.q(p.queue);
    return this.later(queue, p, queue.dead, true);
  }

  private later(queue: MemoryQueue, p: JobDeadParams, target: Map<string, Entry>, dead: boolean): JobDeadResult {
    const held = queue.active.get(p.jid);
    if (!held || held.token !== p.token) return { moved: false, absorbed: 0 };
    queue.active.delete(p.jid);
    target.set(p.jid, { raw: p.raw, score: p.runAtMs });
    if (target !== queue.schedule) {
      queue.counters.failed++; // a snooze is not a failure
      this.records.count(p.queue, 'failed', 1, p.nowMs);
    }
    if (p.strategy) countDecision(queue.counters, p.strategy);
    const cookie = p.dedupKey ? queue.cookies.get(p.dedupKey, p.nowMs) : undefined;
    if (!p.dedupKey || cookie?.owner !== p.jid) return { moved: true, absorbed: 0 };
    if (!dead) Object.assign(cookie, { executing: false, absorbedWhileExecuting: 0 });
    else if (cookie.absorbed > 0 && p.reschedule) {
      this.reschedule(queue, p.dedupKey, cookie, p.reschedule, p.nowMs);
      return { moved: true, absorbed: cookie.absorbed, rescheduled: p.reschedule.jid };
    } else queue.cookies.delete(p.dedupKey);
    return { moved: true, absorbed: dead ? cookie.absorbed : 0 };
  }

  async jobRequeue(params: { queue: string; token: string; jids: string[] }): Promise<number> {
    const queue = this.q(params.queue);
    let count = 0;
    for (const jid of params.jids) {
      const held = queue.active.get(jid);
      if (!held || held.token !== params.token) continue;
      queue.active.delete(jid);
      this.makeReady(queue, held.raw, true);
      count++;
    }
    return count;
  }

  async leaseRenew(params: { queue: string; token: string; jids: string[]; leaseMs: number; nowMs: number }): Promise<LeaseRenewResult> {
    const queue = this.q(params.queue);
    const lost: string[] = [];
    for (const jid of params.jids) {
      const held = queue.active.get(jid);
      if (held?.token === params.token) held.score = params.nowMs + params.leaseMs;
      else lost.push(jid);
    }
    return { lost };
  }

  async queueMaintain(p: QueueMaintainParams): Promise<QueueMaintainResult | undefined> {
    const queue = this.q(p.queue);
    if (queue.lock && queue.lock.token !== p.token && queue.lock.expiresAtMs > p.nowMs) return undefined;
    queue.lock = { token: p.token, expiresAtMs: p.nowMs + p.lockMs };
    let promoted = 0;
    let room = p.readyCap === undefined ? p.limit : Math.max(0, p.readyCap - queue.ready.length);
    for (const set of [queue.schedule, queue.retry]) {
      for (const [jid, entry] of dueByScore(set, p.nowMs).slice(0, Math.min(p.limit, room))) {
        set.delete(jid);
        this.makeReady(queue, entry.raw);
        promoted++;
        if (p.readyCap !== undefined) room--;
      }
    }
    let recovered = 0;
    for (const [jid, held] of [...queue.active].filter(([, h]) => h.score <= p.nowMs).slice(0, p.limit)) {
      queue.active.delete(jid);
      this.makeReady(queue, held.raw, true);
      recovered++;
    }
    const dead = byScore(queue.dead);
    const old = dead.filter(([, e]) => e.score <= p.nowMs - p.deadMaxAgeMs).slice(0, p.limit);
    const excess = Math.min(Math.max(0, dead.length - old.length - p.deadMaxSize), p.limit);
    const trimmed = [...old, ...dead.slice(old.length, old.length + excess)];
    for (const [jid] of trimmed) queue.dead.delete(jid);
    let nextDueMs: number | undefined;
    for (const set of [queue.schedule, queue.retry]) for (const { score } of set.values()) if (nextDueMs === undefined || score < nextDueMs) nextDueMs = score;
    return { promoted, recovered, trimmed: trimmed.length, nextDueMs };
  }

  async queueSizes(name: string): Promise<QueueSizes> {
    const q = this.q(name);
    return { ready: q.ready.length, scheduled: q.schedule.size, retry: q.retry.size, dead: q.dead.size, inFlight: q.active.size, dedupKeys: q.cookies.size, deferred: this.limits.deferredCount(name) };
  }

  async queueCounters(name: string): Promise<QueueCounters> {
    const counters = this.q(name).counters;
    return { ...counters, decisions: { ...counters.decisions } };
  }

  async queueList(): Promise<string[]> {
    return [...this.registered].sort();
  }

  async queueRemove(name: string): Promise<QueueRemoveResult> {
    if (!this.registered.has(name)) return { removed: false, reason: 'unknown' };
    const sizes = await this.queueSizes(name);
    if (holdsJobs(sizes)) return { removed: false, reason: 'not_empty', sizes };
    this.registered.delete(name);
    return { removed: true };
  }

  async jobList(p: { queue: string; state: JobState; offset: number; limit: number }): Promise<StoredJob[]> {
    const queue = this.q(p.queue);
    if (p.state === 'ready') return queue.ready.slice(p.offset, p.limit).map((raw) => ({ jid: payloadIds(raw).jid ?? '', raw }));
    const set = { scheduled: queue.schedule, retry: queue.retry, dead: queue.dead, active: queue.active }[p.state];
    const sorted = byScore(set);
    if (p.state === 'dead') sorted.reverse();
    return sorted.slice(p.offset, p.offset + p.limit).map(([jid, e]) => ({ jid, raw: e.raw, score: e.score }));
  }

  async jobRetryNow(p: { queue: string; jid: string; from: 'dead' | 'retry'; nowMs: number }): Promise<boolean> {
    const queue = this.q(p.queue);
    const set = p.from === 'dead' ? queue.dead : queue.retry;
    const entry = set.get(p.jid);
    if (!entry) return false;
    set.delete(p.jid);
    this.makeReady(queue, entry.raw);
    this.registered.add(p.queue);
    return true;
  }

  async jobDelete(p: { queue: string; jid: string; from: 'dead' | 'retry' | 'scheduled' }): Promise<boolean> {
    const queue = this.q(p.queue);
    const set = { dead: queue.dead, retry: queue.retry, scheduled: queue.schedule }[p.from];
    const entry = set.get(p.jid);
    if (!entry) return false;
    set.delete(p.jid);
    // Like delete-3.lua: a deleted job's cookie goes too, or it would absorb twins until it expires.
    const key = payloadIds(entry.raw).idempotencyKey;
    if (key && queue.cookies.peek(key)?.owner === p.jid) queue.cookies.delete(key);
    return true;
  }

  async dedupShow(p: { queue: string; key: string; nowMs: number }): Promise<DedupCookie | undefined> {
    const c = this.q(p.queue).cookies.get(p.key, p.nowMs);
    if (!c) return undefined;
    return { key: p.key, strategy: c.strategy, ownerJid: c.owner, absorbed: c.absorbed, executing: c.executing, absorbedWhileExecuting: c.absorbedWhileExecuting, wal: { ...c.wal }, ttlMs: c.expiresAtMs - p.nowMs };
  }

  async dedupReap(p: { queue: string; token: string; nowMs: number; limit: number; cursor: string }): Promise<{ released: number; cursor: string }> {
    const queue = this.q(p.queue);
    // Synchronous here, so nothing can move between looking and releasing; the lock check mirrors the Lua.
    if (queue.lock?.token !== p.token || queue.lock.expiresAtMs <= p.nowMs) return { released: 0, cursor: p.cursor };
    const waiting = new Set<string>();
    for (const raw of queue.ready) waiting.add(payloadIds(raw).jid ?? '');
    let released = 0;
    // The cursor is a position in insertion order; cookies deleted meanwhile only make a pass skip ahead.
    const from = Number(p.cursor) || 0;
    const entries = [...queue.cookies.entries()];
    const next = from + p.limit < entries.length ? String(from + p.limit) : '0';
    for (const [key, cookie] of entries.slice(from, from + p.limit)) {
      if (!queue.cookies.get(key, p.nowMs)) continue;
      const alive = waiting.has(cookie.owner) || queue.active.has(cookie.owner) || queue.schedule.has(cookie.owner) || queue.retry.has(cookie.owner) || this.limits.isParked(p.queue, cookie.owner);
      if (!alive) {
        queue.cookies.delete(key);
        released++;
      }
    }
    return { released, cursor: next };
  }

  private limitView(name: string): LimitedQueueView {
    const queue = this.q(name);
    return { active: queue.active, cookies: queue.cookies, readyFront: (raw) => this.makeReady(queue, raw, true), lease: (jid, raw, token, expiresAtMs, nowMs) => this.leaseHandedOver(queue, jid, raw, token, expiresAtMs, nowMs), paused: () => queue.pausedAt !== undefined };
  }

  /** Lease a deferred job handed straight to a worker, with its dedup cookie handled as jobFetch does. */
  private leaseHandedOver(queue: MemoryQueue, jid: string, raw: string, token: string, expiresAtMs: number, nowMs: number): string {
    const key = payloadIds(raw).idempotencyKey;
    const cookie = key ? queue.cookies.get(key, nowMs) : undefined;
    let handed = raw;
    if (key && cookie?.owner === jid) {
      if (Object.keys(cookie.wal).length > 0) handed = withDedupWal(raw, cookie.wal);
      if (cookie.strategy === 'until_executing') queue.cookies.delete(key);
      else Object.assign(cookie, { executing: true, absorbedWhileExecuting: 0 });
    }
    queue.active.set(jid, { raw: handed, score: expiresAtMs, token });
    return handed;
  }

  async limitAcquire(params: LimitAcquireParams): Promise<LimitAcquireResult> {
    return this.limits.acquire(this.limitView(params.queue), params);
  }

  async limitRelease(params: LimitReleaseParams): Promise<LimitReleaseResult> {
    return this.limits.release(this.limitView(params.queue), params);
  }

  async limitList(params: { queue: string; nowMs: number }): Promise<LimitUsage[]> {
    return this.limits.list(this.limitView(params.queue), params);
  }

  async close(): Promise<void> {
    for (const queue of this.queues.values()) for (const wake of queue.waiters) wake();
    this.records.close();
  }

  async queueHistory(params: { queue: string; fromMs: number; toMs: number }): Promise<MinuteCounts[]> {
    return this.records.history(params);
  }

  async jobProgress(params: { queue: string; jid: string; value: string; nowMs: number }): Promise<void> {
    this.records.progress(params);
  }

  async jobFinished(params: { queue: string; jid: string; nowMs: number; record?: { value: JobOutcomeRecord; ttlMs: number }; event?: JobEventMessage }): Promise<void> {
    this.records.finished(params);
  }

  /** As lookup-7.lua: record, lease, schedule / retry / dead, then the ready list from the next job to run, bounded. */
  async jobLookup(p: { queue: string; jid: string; nowMs: number }): Promise<JobLookup | undefined> {
    const queue = this.queues.get(p.queue);
    const kept = this.records.get(p.queue, p.jid, p.nowMs);
    const progress = kept?.progress !== undefined ? { progress: kept.progress } : {};
    if (kept?.record) return { state: 'completed', record: structuredClone(kept.record), ...progress };
    if (!queue) return undefined;
    const held = queue.active.get(p.jid);
    if (held) return { state: 'active', raw: held.raw, ...progress };
    for (const [state, set] of [['scheduled', queue.schedule], ['retry', queue.retry], ['dead', queue.dead]] as const) {
      const entry = set.get(p.jid);
      if (entry) return { state, raw: entry.raw, score: entry.score, ...progress };
    }
    let scanned = 0;
    for (const raw of queue.ready) {
      if (scanned++ >= LOOKUP_READY_SCAN) break;
      if (payloadIds(raw).jid === p.jid) return { state: 'ready', raw, ...progress };
    }
    return undefined;
  }

  async eventsSubscribe(listener: (event: JobEventMessage) => void): Promise<() => Promise<void>> {
    return this.records.subscribe(listener);
  }

  async queuePause(p: { queue: string; nowMs: number }): Promise<boolean> {
    const queue = this.q(p.queue);
    this.registered.add(p.queue);
    if (queue.pausedAt !== undefined) return false;
    queue.pausedAt = p.nowMs;
    return true;
  }

  async queueResume(name: string): Promise<boolean> {
    const queue = this.q(name);
    if (queue.pausedAt === undefined) return false;
    queue.pausedAt = undefined;
    if (queue.ready.length > 0) this.wake(queue);
    return true;
  }

  async queuePausedAt(queues: string[]): Promise<(number | undefined)[]> {
    return queues.map((name) => this.queues.get(name)?.pausedAt);
  }

  async scheduleClaim(params: ScheduleClaimParams): Promise<ScheduleClaim> {
    return this.schedules.claim(params);
  }

  async scheduleRecord(params: { name: string; tickMs: number; jid: string; nowMs: number }): Promise<void> {
    this.schedules.record(params);
  }

  async schedulePause(params: { name: string; paused: boolean; nowMs: number }): Promise<void> {
    this.schedules.pause(params);
  }

  async scheduleStates(names: string[]): Promise<ScheduleState[]> {
    return this.schedules.states(names);
  }

  async schedulePush(params: JobPushParams & { schedule: string; tickMs: number }): Promise<JobPushResult | { taken: string }> {
    // Mark and push with no await between them: one step, as in Redis.
    const owner = this.schedules.markPushed({ queue: params.queue, schedule: params.schedule, tickMs: params.tickMs, jid: params.jid });
    if (owner === params.jid) return { pushed: true, jid: params.jid };
    if (owner !== undefined) return { taken: owner };
    return this.jobPush(params);
  }
}
