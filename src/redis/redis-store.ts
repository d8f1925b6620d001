import { Redis, type RedisOptions } from 'ioredis';
import { jidOf } from '../jobs/payload.js';
import { newCookie, parseCookie } from './dedup-cookie.js';
import { RedisKeys, type QueueKeys } from './keys.js';
import { defineScripts, runScript } from './scripts.js';
import { SignalWaiter } from './signal-waiter.js';
import {
  FETCH_MAX,
  type DedupCookie,
  type FetchedJob,
  type JobAckItem,
  type JobAckResult,
  type JobFetchParams,
  type JobLaterParams,
  type JobPushParams,
  type JobPushResult,
  type JobState,
  type JobStore,
  type QueueMaintainParams,
  type QueueCounters,
  type QueueMaintainResult,
  type QueueSizes,
  type StoredJob,
} from '../store/job-store.js';

const PUSH_READY_CHUNK = 1000;

export interface RedisJobStoreOptions {
  url: string;
  prefix?: string;
  /** Called on connection loss and recovery, so operators see what happened. */
  onConnectionEvent?: (event: 'lost' | 'restored', detail: string) => void;
  redisOptions?: RedisOptions;
}

export class RedisJobStore implements JobStore {
  readonly keys: RedisKeys;
  private readonly redis: Redis;
  private readonly waiter: SignalWaiter;
  /** Keys of every queue this store has touched, built once: every call on the hot paths needs them. */
  private readonly knownQueues = new Map<string, QueueKeys>();

  constructor(private readonly options: RedisJobStoreOptions) {
    this.keys = new RedisKeys(options.prefix ?? 'lagless');
    this.redis = this.connect('commands');
    this.waiter = new SignalWaiter(() => this.connect('wake-up'));
  }

  private connect(role: string): Redis {
    // maxRetriesPerRequest: null queues commands while Redis is away and sends them after reconnecting, so a
    // restart delays work instead of failing it; the default retry strategy backs off up to 2 s.
    const redis = new Redis(this.options.url, { maxRetriesPerRequest: null, ...this.options.redisOptions });
    defineScripts(redis);
    let lost = false;
    redis.on('error', (error: Error) => {
      if (!lost) this.options.onConnectionEvent?.('lost', `${role} connection: ${error.message}; reconnecting with backoff`);
      lost = true;
    });
    redis.on('ready', () => {
      if (lost) this.options.onConnectionEvent?.('restored', `${role} connection restored`);
      lost = false;
    });
    return redis;
  }

  private q(queue: string): QueueKeys {
    let keys = this.knownQueues.get(queue);
    if (!keys) {
      this.knownQueues.set(queue, (keys = this.keys.queue(queue)));
      void this.redis.sadd(this.keys.queues(), queue).catch(() => this.knownQueues.delete(queue));
    }
    return keys;
  }

  private pushArgs(p: JobPushParams): [string[], (string | number)[]] {
    const k = this.q(p.queue);
    const d = p.dedup;
    const args: (string | number)[] = d
      ? [p.raw, d.key, newCookie({ strategy: d.strategy, ownerJid: p.jid, expiresAtMs: p.nowMs + d.ttlMs, wal: d.wal }), p.nowMs, `${d.idempotent ? 1 : 0}${d.preserveLatestWal ? 1 : 0}`]
      : [p.raw, '', '', p.nowMs, ''];
    if (isDueNow(p)) return [[k.dedup, k.stats, k.ready, k.signal], args];
    args.push(p.runAtMs!, p.jid);
    return [[k.dedup, k.stats, k.schedule, k.jobs], args];
  }

  async jobPush(params: JobPushParams): Promise<JobPushResult> {
    if (isPlain(params)) {
      const k = this.q(params.queue);
      await runScript<number>(this.redis, 'pushReady', [k.ready, k.signal], [params.raw]);
      return { pushed: true, jid: params.jid };
    }
    const [keys, args] = this.pushArgs(params);
    return pushResult(await runScript<number | string>(this.redis, 'push', keys, args), params.jid);
  }

  async jobPushMany(params: JobPushParams[]): Promise<JobPushResult[]> {
    // In input order: a run of plain jobs for one queue goes out as one pushReady call (chunked), every other
    // job as its own push script; all of it in one pipeline, so one round trip.
    const pipeline = this.redis.pipeline();
    const replyIndex: (number | undefined)[] = [];
    let commands = 0;
    let run: { queue: string; raws: string[] } | undefined;
    const flushRun = (): void => {
      if (!run) return;
      const k = this.q(run.queue);
      for (let i = 0; i < run.raws.length; i += PUSH_READY_CHUNK, commands++) runScript(pipeline, 'pushReady', [k.ready, k.signal], run.raws.slice(i, i + PUSH_READY_CHUNK));
      run = undefined;
    };
    for (const p of params) {
      if (isPlain(p)) {
        if (run?.queue !== p.queue) flushRun();
        (run ??= { queue: p.queue, raws: [] }).raws.push(p.raw);
        replyIndex.push(undefined);
      } else {
        flushRun();
        runScript(pipeline, 'push', ...this.pushArgs(p));
        replyIndex.push(commands++);
      }
    }
    flushRun();
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    return params.map((p, i) => {
      const index = replyIndex[i];
      return index === undefined ? { pushed: true, jid: p.jid } : pushResult(replies[index]![1] as number | string, p.jid);
    });
  }

  async jobFetch(p: JobFetchParams): Promise<FetchedJob[]> {
    const k = this.q(p.queue);
    const flat = await runScript<string[]>(this.redis, 'fetch', [k.ready, k.leases, k.active, k.signal, k.dedup], [
      Math.min(p.count, FETCH_MAX), p.token, p.nowMs + p.leaseMs, p.nowMs,
    ]);
    const jobs: FetchedJob[] = [];
    for (let i = 0; i < flat.length; i += 2) jobs.push({ jid: flat[i]!, raw: flat[i + 1]! });
    return jobs;
  }

  jobWait(params: { queues: string[]; timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.waiter.wait(params.queues.map((queue) => this.q(queue).signal), params.timeoutMs, params.signal);
  }

  async jobAck(params: { queue: string; token: string; jobs: JobAckItem[]; nowMs: number }): Promise<JobAckResult[]> {
    const k = this.q(params.queue);
    // Most acks settle no cookie: send those as bare jids, and the token once, to keep ARGV short.
    const plain = params.jobs.filter((j) => !j.dedupKey);
    const settled = params.jobs.filter((j) => j.dedupKey);
    const strategies = new Map<string, number>();
    for (const j of params.jobs) if (j.strategy) strategies.set(j.strategy, (strategies.get(j.strategy) ?? 0) + 1);
    const args: (string | number)[] = [params.nowMs, params.token, strategies.size, ...[...strategies].flat(), plain.length, ...plain.map((j) => j.jid)];
    for (const j of settled) args.push(j.jid, j.dedupKey!, j.rescheduleJid ?? '', j.rescheduleRaw ?? '', j.rescheduleTtlMs ?? 0);
    const flat = await runScript<(string | number)[]>(this.redis, 'ack', [k.leases, k.active, k.stats, k.dedup, k.ready, k.signal], args);
    const results = new Map<JobAckItem, JobAckResult>();
    [...plain, ...settled].forEach((j, i) => {
      const rescheduled = String(flat[i * 2 + 1]);
      results.set(j, rescheduled ? { jid: j.jid, acked: flat[i * 2] === 1, rescheduled } : { jid: j.jid, acked: flat[i * 2] === 1 });
    });
    return params.jobs.map((j) => results.get(j)!);
  }

  async jobRetry(p: JobLaterParams & { kind: 'retry' | 'snooze' }): Promise<boolean> {
    const k = this.q(p.queue);
    return this.later(p, p.kind === 'retry' ? k.retry : k.schedule, p.kind);
  }

  async jobDead(p: JobLaterParams): Promise<boolean> {
    return this.later(p, this.q(p.queue).dead, 'dead');
  }

  private async later(p: JobLaterParams, target: string, kind: string): Promise<boolean> {
    const k = this.q(p.queue);
    const moved = await runScript<number>(this.redis, 'later', [k.leases, k.active, target, k.jobs, k.dedup, k.stats], [
      p.jid, p.token, p.raw, p.runAtMs, kind, p.dedupKey ?? '', p.nowMs, p.strategy ?? '',
    ]);
    return moved === 1;
  }

  async jobRequeue(params: { queue: string; token: string; jids: string[] }): Promise<number> {
    if (params.jids.length === 0) return 0;
    const k = this.q(params.queue);
    return runScript<number>(this.redis, 'requeue', [k.leases, k.active, k.ready, k.signal], [params.token, ...params.jids]);
  }

  async leaseRenew(params: { queue: string; token: string; jids: string[]; leaseMs: number; nowMs: number }): Promise<void> {
    if (params.jids.length === 0) return;
    const expires = params.nowMs + params.leaseMs;
    // XX: only extend leases that still exist; a lease already recovered by maintenance is not brought back.
    await this.redis.zadd(this.q(params.queue).leases, 'XX', ...params.jids.flatMap((jid) => [expires, jid]));
  }

  async queueMaintain(p: QueueMaintainParams): Promise<QueueMaintainResult | undefined> {
    const k = this.q(p.queue);
    const result = await runScript<[number, number, number] | null>(
      this.redis, 'maintain', [k.ready, k.schedule, k.retry, k.dead, k.jobs, k.leases, k.active, k.signal, k.lock],
      [p.token, p.nowMs, p.lockMs, p.limit, p.deadMaxSize, p.deadMaxAgeMs],
    );
    return result ? { promoted: result[0], recovered: result[1], trimmed: result[2] } : undefined;
  }

  async queueSizes(queue: string): Promise<QueueSizes> {
    const k = this.keys.queue(queue);
    const replies = await this.redis.pipeline().llen(k.ready).zcard(k.schedule).zcard(k.retry).zcard(k.dead).hlen(k.active).hlen(k.dedup).exec();
    const [ready, scheduled, retry, dead, inFlight, dedupKeys] = (replies ?? []).map(([, value]) => Number(value));
    return { ready: ready!, scheduled: scheduled!, retry: retry!, dead: dead!, inFlight: inFlight!, dedupKeys: dedupKeys! };
  }

  async queueCounters(queue: string): Promise<QueueCounters> {
    const stats = await this.redis.hgetall(this.keys.queue(queue).stats);
    const decisions: Record<string, number> = {};
    for (const [field, value] of Object.entries(stats)) if (field.startsWith('lb:')) decisions[field.slice(3)] = Number(value);
    const count = (field: string): number => Number(stats[field] ?? 0);
    return { processed: count('processed'), failed: count('failed'), deduplicated: count('deduplicated'), rescheduled: count('rescheduled'), decisions };
  }

  async queueList(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.queues())).sort();
  }

  async jobList(p: { queue: string; state: JobState; offset: number; limit: number }): Promise<StoredJob[]> {
    const k = this.keys.queue(p.queue);
    const end = p.offset + p.limit - 1;
    if (p.state === 'ready') {
      const raws = await this.redis.lrange(k.ready, -end - 1, -p.offset - 1);
      return raws.reverse().map((raw) => ({ jid: jidOf(raw) ?? '', raw }));
    }
    const set = { scheduled: k.schedule, retry: k.retry, dead: k.dead, active: k.leases }[p.state];
    const flat = p.state === 'dead' ? await this.redis.zrevrange(set, p.offset, end, 'WITHSCORES') : await this.redis.zrange(set, String(p.offset), String(end), 'WITHSCORES');
    const jids = flat.filter((_, i) => i % 2 === 0);
    if (jids.length === 0) return [];
    const raws = p.state === 'active' ? await this.redis.hmget(k.active, ...jids) : await this.redis.hmget(k.jobs, ...jids);
    return jids.map((jid, i) => {
      const raw = raws[i] ?? '';
      return { jid, raw: p.state === 'active' ? raw.slice(raw.indexOf('|') + 1) : raw, score: Number(flat[i * 2 + 1]) };
    });
  }

  async jobRetryNow(p: { queue: string; jid: string; from: 'dead' | 'retry'; nowMs: number }): Promise<boolean> {
    const k = this.q(p.queue);
    return (await runScript<number>(this.redis, 'retryNow', [p.from === 'dead' ? k.dead : k.retry, k.jobs, k.ready, k.signal], [p.jid])) === 1;
  }

  async jobDelete(p: { queue: string; jid: string; from: 'dead' | 'retry' | 'scheduled' }): Promise<boolean> {
    const k = this.keys.queue(p.queue);
    const set = { dead: k.dead, retry: k.retry, scheduled: k.schedule }[p.from];
    return (await runScript<number>(this.redis, 'delete', [set, k.jobs, k.dedup], [p.jid])) === 1;
  }

  async dedupShow(p: { queue: string; key: string; nowMs: number }): Promise<DedupCookie | undefined> {
    return parseCookie(p.key, await this.redis.hget(this.keys.queue(p.queue).dedup, p.key), p.nowMs);
  }

  async dedupReap(p: { queue: string; token: string; nowMs: number; limit: number; cursor: string }): Promise<{ released: number; cursor: string }> {
    const k = this.keys.queue(p.queue);
    const keys = [k.dedup, k.active, k.schedule, k.retry, k.lock];
    const candidates = new Map<string, string>(); // owner jid → cookie key
    let cursor = p.cursor;
    // HSCAN pages of ~200 cookies; the cursor carries over so every cookie gets its turn, however many are alive.
    for (let scanned = 0; scanned < p.limit; scanned += 200) {
      const [next, ...pairs] = await runScript<string[]>(this.redis, 'dedupOrphans', keys, [p.nowMs, cursor]);
      cursor = next!;
      for (let i = 0; i < pairs.length; i += 2) candidates.set(pairs[i + 1]!, pairs[i]!);
      if (cursor === '0') break;
    }
    if (candidates.size === 0) return { released: 0, cursor };
    // Owners still waiting in the ready list are alive; read it in chunks so Redis is never blocked for long.
    for (let start = 0; candidates.size > 0; start += 1000) {
      const chunk = await this.redis.lrange(k.ready, start, start + 999);
      for (const raw of chunk) candidates.delete(jidOf(raw) ?? '');
      if (chunk.length < 1000) break;
    }
    if (candidates.size === 0) return { released: 0, cursor };
    const released = await runScript<number>(this.redis, 'dedupOrphans', keys, [p.nowMs, '', p.token, ...[...candidates].flatMap(([owner, key]) => [key, owner])]);
    return { released, cursor };
  }

  /** The command connection, for the few callers that need raw access (CLI diagnostics, tests). */
  get client(): Redis {
    return this.redis;
  }

  async close(): Promise<void> {
    this.waiter.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function isDueNow(p: JobPushParams): boolean {
  return !(p.runAtMs && p.runAtMs > p.nowMs);
}

/** No dedup and due now: a two-key LPUSH script, far cheaper than the full push script's 4 keys and 5-7 args. */
function isPlain(p: JobPushParams): boolean {
  return !p.dedup && isDueNow(p);
}

function pushResult(reply: number | string, jid: string): JobPushResult {
  if (reply === 1) return { pushed: true, jid };
  const [pushed, owner = '', raised] = String(reply).split('|');
  if (pushed === '1') return { pushed: true, jid, duplicateOf: owner };
  return { pushed: false, jid, duplicateOf: owner, walRaised: raised ? raised.split(',') : [] };
}
