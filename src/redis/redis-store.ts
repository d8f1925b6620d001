import type { ClusterOptions, RedisOptions } from 'ioredis';
import { EnqueueNotReplicatedError, EnqueueOutcomeUnknownError, PushRefusedError, StoreUnavailableError } from '../errors.js';
import { payloadIds } from '../jobs/payload.js';
import { describeTarget, isCluster, openRedis, type RedisClient, type RedisTarget } from './connection.js';
import { execGrouped, execGroupedValues, execReplicated, groupBySlot, type Replication, type ScriptCall } from './script-pipelines.js';
import { DEADLINE_CONNECTION_OPTIONS, DeadlineCalls, type DeadlineCallOptions } from './deadline-calls.js';
import { parseCookie } from './dedup-cookie.js';
import { pushJobArgs, pushManyArgs, pushResult } from './push-args.js';
import { RedisKeys, type QueueKeys } from './keys.js';
import { execPipeline } from './pipeline.js';
import { QueueRegistry } from './queue-registry.js';
import { JobFetcher } from './fetch-jobs.js';
import { RedisLimits } from './redis-limits.js';
import { RedisSchedules } from './redis-schedules.js';
import { defineScripts, runScript } from './scripts.js';
import { SignalWaiter } from './signal-waiter.js';
import { EmptyQueues } from './empty-queues.js';
import {
  isDueNow,
  type DedupCookie,
  type FetchedJob,
  type FetchedQueueJob,
  type JobFetchManyParams,
  type JobAckItem,
  type JobAckResult,
  type JobDeadParams,
  type JobDeadResult,
  type JobFetchParams,
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
} from '../store/job-store.js';
import type { LimitAcquireParams, LimitAcquireResult, LimitReleaseParams, LimitReleaseResult, LimitUsage } from '../store/limits.js';
import { HISTORY_RETENTION_MS, minuteOf, type JobEventMessage, type JobLookup, type JobOutcomeRecord, type MinuteCounts } from '../store/job-records.js';
import { RedisJobRecords } from './redis-job-records.js';

const PUSH_READY_CHUNK = 1000;

/** Which Redis: `url`, `cluster: { nodes, options }` or `sentinels` + `name` (see RedisTarget). */
export interface RedisJobStoreOptions extends RedisTarget {
  prefix?: string;
  /** How long an enqueue waits for Redis (connecting, reconnecting, its reply) before it rejects. Default 5 s. */
  enqueueTimeoutMs?: number;
  /** The same for every other call: fetch, ack, CLI and dashboard reads, shutdown hand-backs. Default 5 s. */
  commandTimeoutMs?: number;
  /** Called on connection loss and recovery, so operators see what happened. */
  onConnectionEvent?: (event: 'lost' | 'restored', detail: string) => void;
  redisOptions?: RedisOptions;
  /**
   * An enqueue resolves only once WAIT saw its write on `replicas` replicas within `timeoutMs`, else it rejects
   * with EnqueueNotReplicatedError. The WAIT shares the command connection, so it holds that connection's later
   * commands for up to `timeoutMs` when replicas lag.
   */
  durableEnqueue?: { replicas: number; timeoutMs: number };
}

export class RedisJobStore implements JobStore {
  readonly keys: RedisKeys;
  private readonly redis: RedisClient;
  private readonly waiter: SignalWaiter;
  /** Keys of every queue this store has touched, built once: every call on the hot paths needs them. */
  private readonly knownQueues = new Map<string, QueueKeys>();
  /** host:port, named in every error. */
  readonly host: string;
  private readonly calls: DeadlineCalls;
  private readonly commandCall: DeadlineCallOptions;
  private readonly enqueueTimeoutMs: number;
  /** durableEnqueue, with the host its errors name. */
  private readonly replication?: Replication;
  private fetches = 0;
  /** Queues known empty (Redis Cluster only, see EmptyQueues), and the queue of each signal channel. */
  private readonly empty?: EmptyQueues;
  private readonly queueOfSignal = new Map<string, string>();
  private readonly queues: QueueRegistry;
  private readonly fetcher: JobFetcher;
  private readonly limits: RedisLimits;
  private readonly records: RedisJobRecords;
  private readonly schedules: RedisSchedules;

  constructor(private readonly options: RedisJobStoreOptions) {
    // On a cluster, wake-up signals are sharded pub/sub channels (one subscriber per master, see SignalWaiter).
    this.keys = new RedisKeys(options.prefix ?? 'lagless', options.cluster !== undefined);
    this.host = describeTarget(options);
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 5000;
    if (options.durableEnqueue) this.replication = { ...options.durableEnqueue, host: this.host };
    const commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    this.commandCall = { timeoutMs: commandTimeoutMs, unavailable: (reason) => new StoreUnavailableError(this.host, commandTimeoutMs, 'redis.commandTimeoutMs', reason) };
    this.redis = this.connect('commands', DEADLINE_CONNECTION_OPTIONS);
    this.calls = new DeadlineCalls(this.redis);
    this.limits = new RedisLimits(this.redis, this.keys, (send) => this.command(send));
    this.records = new RedisJobRecords({ redis: this.redis, keys: this.keys, call: (send) => this.command(send), connect: () => this.connect('events', { maxRetriesPerRequest: null }) });
    this.schedules = new RedisSchedules(this.redis, this.keys, (send) => this.command(send));
    this.queues = new QueueRegistry({ redis: this.redis, key: this.keys.queues(), call: (send) => this.command(send), sizes: (queue) => this.queueSizes(queue) });
    // On a cluster, wake-ups are messages: the queues a fetch saw empty stay known empty until one arrives.
    const empty = isCluster(this.redis) ? new EmptyQueues((queue) => this.waiter.isSubscribed(this.q(queue).signal)) : undefined;
    this.empty = empty;
    this.fetcher = new JobFetcher({ redis: this.redis, keys: this.keys, queueKeys: (queue) => this.q(queue), call: (send) => this.command(send), empty });
    // A blocking wake-up wait may be queued and resent by ioredis: it writes nothing and its caller has a timeout.
    this.waiter = new SignalWaiter(() => this.connect('wake-up', { maxRetriesPerRequest: null }, { shardedSubscribers: true }), isCluster(this.redis), (channel) => {
      const queue = this.queueOfSignal.get(channel);
      if (queue !== undefined) empty?.signaled(queue);
    });
  }

  /** Any call but a push: bounded by redis.commandTimeoutMs. */
  private command<T>(send: () => Promise<T>): Promise<T> {
    return this.calls.call(send, this.commandCall);
  }

  /** A push of these jobs: bounded by redis.enqueueTimeoutMs; a lost reply past the deadline is an unknown outcome. */
  private enqueueCall<T>(jids: string[], send: (resent: boolean) => Promise<T>): Promise<T> {
    const timeoutMs = this.enqueueTimeoutMs;
    return this.calls.call(send, {
      timeoutMs,
      unavailable: (reason) => new StoreUnavailableError(this.host, timeoutMs, 'redis.enqueueTimeoutMs', reason),
      outcomeUnknown: () => new EnqueueOutcomeUnknownError(jids, this.host, timeoutMs),
    });
  }

  private connect(role: string, roleOptions: RedisOptions, clusterRoleOptions?: ClusterOptions): RedisClient {
    // The default retry strategy reconnects with a backoff of up to 2 s, for ever; callers' deadlines bound the wait.
    // Named, so CLIENT LIST on a node tells which connections are whose (`lagless:wake-up`, …).
    const redis = openRedis(this.options, { connectionName: `lagless:${role}`, ...roleOptions }, this.options.redisOptions, clusterRoleOptions);
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
      this.queueOfSignal.set(keys.signal, queue);
    }
    return keys;
  }

  /**
   * Whether a fetch by this process saw the queue empty and no wake-up came since (Redis Cluster; always false on
   * one Redis): a caller may leave it out of a fetch.
   */
  knownEmpty(queue: string): boolean {
    return this.empty?.isEmpty(queue) ?? false;
  }

  private pushArgs(p: JobPushParams): [string[], (string | number)[]] {
    const k = this.q(p.queue);
    const args = pushJobArgs(p);
    if (isDueNow(p)) return [[k.dedup, k.stats, k.ready, k.signal], args];
    args.push(p.runAtMs!, p.jid);
    return [[k.dedup, k.stats, k.schedule, k.jobs], args];
  }

  jobPush(params: JobPushParams): Promise<JobPushResult> {
    const plain = isPlain(params);
    return this.enqueueCall([params.jid], (resent) => (resent ? this.pushAgain(params, plain) : this.pushOnce(params, plain))).then((reply) => {
      this.queues.register(params.queue);
      return plain ? { pushed: true, jid: params.jid } : pushResult(reply, params.jid);
    });
  }

  /** One push call: the push script's reply, or (plain) the ready list's length. */
  private pushOnce(params: JobPushParams, plain: boolean): Promise<number | string> {
    const k = this.q(params.queue);
    if (this.replication) {
      const pipeline = this.redis.pipeline();
      if (plain) runScript(pipeline, 'pushReady', [k.ready, k.signal], [params.raw]);
      else runScript(pipeline, 'push', ...this.pushArgs(params));
      return execReplicated(pipeline, this.replication, [params.jid]).then(([pushed]) => pushed as number | string);
    }
    if (plain) return runScript<number>(this.redis, 'pushReady', [k.ready, k.signal], [params.raw]);
    return runScript<number | string>(this.redis, 'push', ...this.pushArgs(params));
  }

  /** The reply to an earlier attempt was lost: it may have queued the job already. */
  private async pushAgain(params: JobPushParams, plain: boolean): Promise<number | string> {
    if (!(await this.alreadyQueued([params]))[0]) return this.pushOnce(params, plain);
    const unconfirmed = (await this.confirmResent([params])).get(params);
    if (unconfirmed) throw unconfirmed;
    return 1;
  }

  async jobPushMany(params: JobPushParams[]): Promise<JobPushResult[]> {
    const outcomes = await this.jobPushEach(params);
    for (const outcome of outcomes) if (outcome instanceof Error) throw outcome;
    return outcomes as JobPushResult[];
  }

  async jobPushEach(params: JobPushParams[]): Promise<(JobPushResult | Error)[]> {
    return this.enqueueCall(
      params.map((p) => p.jid),
      async (resent) => {
        if (!resent) return this.pushBatch(params);
        // The reply to an earlier attempt was lost: push again only the jobs it did not queue.
        const queued = await this.alreadyQueued(params);
        const [unconfirmed, pushed] = await Promise.all([this.confirmResent(params.filter((_, i) => queued[i])), this.pushBatch(params.filter((_, i) => !queued[i]))]);
        return params.map((p, i) => (queued[i] ? (unconfirmed.get(p) ?? { pushed: true as const, jid: p.jid }) : pushed.shift()!));
      },
    );
  }

  /** Whether each job is already queued (one check script per queue, one round trip): only resends ask. */
  private async alreadyQueued(params: JobPushParams[]): Promise<boolean[]> {
    const byQueue = new Map<string, number[]>();
    params.forEach((p, i) => {
      const indexes = byQueue.get(p.queue);
      if (indexes) indexes.push(i);
      else byQueue.set(p.queue, [i]);
    });
    const calls = [...byQueue].map(([queue, indexes]): ScriptCall => {
      const k = this.q(queue);
      return { queue, script: 'queued', keys: [k.ready, k.active, k.jobs, k.dedup], args: indexes.flatMap((i) => [params[i]!.jid, params[i]!.raw, params[i]!.dedup?.key ?? '']) };
    });
    const replies = (await execGroupedValues(this.redis, calls)) as number[][];
    const queued = new Array<boolean>(params.length).fill(false);
    [...byQueue.values()].forEach((indexes, q) => indexes.forEach((i, j) => (queued[i] = replies[q]![j] === 1)));
    return queued;
  }

  /**
   * In input order, in one round trip (see execGrouped: one pipeline on one Redis, one per slot on a cluster, each
   * ending with WAIT under durableEnqueue): a run of plain jobs for one queue goes out as one pushReady call, a run
   * of deduplicated jobs due now for one queue as one pushMany call (both chunked), a job due later as its own push.
   * A call Redis refused, or whose WAIT too few replicas confirmed, is the error of each job it carried; pushMany
   * reports its jobs' own refusals one by one.
   */
  private async pushBatch(params: JobPushParams[]): Promise<(JobPushResult | Error)[]> {
    if (params.length === 0) return [];
    const calls: ScriptCall[] = [];
    /** The call that answers each job, and where in its reply. */
    const answeredBy: { call: number; at: number }[] = new Array(params.length);
    let run: { queue: string; script: 'pushMany' | 'pushReady'; indexes: number[] } | undefined;
    const flushRun = (): void => {
      if (!run) return;
      const k = this.q(run.queue);
      for (let i = 0; i < run.indexes.length; i += PUSH_READY_CHUNK) {
        const indexes = run.indexes.slice(i, i + PUSH_READY_CHUNK);
        const chunk = indexes.map((j) => params[j]!);
        const call = calls.length;
        const jids = chunk.map((p) => p.jid);
        if (run.script === 'pushReady') {
          calls.push({ queue: run.queue, script: 'pushReady', keys: [k.ready, k.signal], args: chunk.map((p) => p.raw), jids });
          indexes.forEach((j, at) => (answeredBy[j] = { call, at }));
        } else {
          calls.push({ queue: run.queue, script: 'pushMany', keys: [k.dedup, k.stats, k.ready, k.signal], args: pushManyArgs(chunk), jids });
          indexes.forEach((j, at) => (answeredBy[j] = { call, at }));
        }
      }
      run = undefined;
    };
    params.forEach((p, i) => {
      const script = isPlain(p) ? 'pushReady' : isDueNow(p) ? 'pushMany' : 'push';
      if (script === 'push') {
        flushRun();
        answeredBy[i] = { call: calls.length, at: 0 };
        const [keys, args] = this.pushArgs(p);
        calls.push({ queue: p.queue, script, keys, args, jids: [p.jid] });
        return;
      }
      if (run?.queue !== p.queue || run.script !== script) flushRun();
      run ??= { queue: p.queue, script, indexes: [] };
      run.indexes.push(i);
    });
    flushRun();
    const replies = await execGrouped(this.redis, calls, this.replication);
    for (const queue of new Set(params.map((p) => p.queue))) this.queues.register(queue);
    return params.map((p, i) => {
      const { call, at } = answeredBy[i]!;
      const [error, reply] = replies[call]!;
      if (error) return error;
      const script = calls[call]!.script;
      if (script === 'pushReady') return { pushed: true, jid: p.jid };
      const own = script === 'pushMany' ? (reply as (number | string)[])[at]! : (reply as number | string);
      if (typeof own === 'string' && own.startsWith('E|')) return new PushRefusedError(p.jid, own.slice(2));
      return pushResult(own, p.jid);
    });
  }

  /**
   * durableEnqueue and a resend that found these jobs queued by the lost attempt: WAIT only covers this connection's
   * own writes, so write once to each queue's stats (the replication stream keeps order: a replica that has this
   * write has the push before it) and wait for that, one WAIT per slot group. Returns the error of each job whose
   * group too few replicas confirmed (none without durableEnqueue).
   */
  private async confirmResent(params: JobPushParams[]): Promise<Map<JobPushParams, Error>> {
    const failed = new Map<JobPushParams, Error>();
    if (!this.replication || params.length === 0) return failed;
    await Promise.all(
      groupBySlot(this.redis, params, (p) => p.queue).map(async (indexes) => {
        const jobs = indexes.map((i) => params[i]!);
        const pipeline = this.redis.pipeline();
        for (const queue of new Set(jobs.map((p) => p.queue))) pipeline.hincrby(this.q(queue).stats, 'resent_pushes', 1);
        try {
          await execReplicated(pipeline, this.replication!, jobs.map((p) => p.jid));
        } catch (error) {
          if (!(error instanceof EnqueueNotReplicatedError)) throw error;
          for (const p of jobs) failed.set(p, error);
        }
      }),
    );
    return failed;
  }

  async jobFetch({ queue, ...p }: JobFetchParams): Promise<FetchedJob[]> {
    return (await this.jobFetchMany({ ...p, queues: [queue] })).map(({ jid, raw }) => ({ jid, raw }));
  }

  jobFetchMany(p: JobFetchManyParams): Promise<FetchedQueueJob[]> {
    return this.fetcher.fetch({ ...p, fetchId: p.fetchId ?? String(++this.fetches) });
  }

  async queuePause(p: { queue: string; nowMs: number }): Promise<boolean> {
    const paused = (await this.command(() => this.redis.set(this.q(p.queue).paused, p.nowMs, 'NX'))) === 'OK';
    this.queues.register(p.queue);
    return paused;
  }

  async queueResume(queue: string): Promise<boolean> {
    const k = this.q(queue);
    return (await this.command(() => runScript<number>(this.redis, 'resume', [k.paused, k.ready, k.signal], []))) === 1;
  }

  async queuePausedAt(queues: string[]): Promise<(number | undefined)[]> {
    if (queues.length === 0) return [];
    const replies = (await this.command(() => {
      // A cluster pipeline may only touch one node: there, one GET per queue, all sent at once.
      if (isCluster(this.redis)) return Promise.all(queues.map((queue) => this.redis.get(this.keys.queue(queue).paused)));
      const pipeline = this.redis.pipeline();
      for (const queue of queues) pipeline.get(this.keys.queue(queue).paused);
      return execPipeline(pipeline);
    })) as (string | null)[];
    return replies.map((at) => (at === null ? undefined : Number(at)));
  }

  /**
   * Commands are written as they are sent, one system call each; corked, those sent inside `send` leave in one write
   * (Node's writev) when it returns. A call that does not write at once (not connected: ioredis queues it) is sent
   * as usual later. On a cluster the calls go to several nodes' sockets: sent as usual.
   */
  inOneWrite<T>(send: () => T): T {
    const redis = this.redis;
    if (isCluster(redis) || redis.status !== 'ready') return send();
    const socket = redis.stream;
    socket.cork();
    try {
      return send();
    } finally {
      socket.uncork();
    }
  }

  jobWait(params: { queues: string[]; timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const signals = params.queues.map((queue) => this.q(queue).signal);
    if (!isCluster(this.redis)) return this.waiter.wait(signals, params.timeoutMs, params.signal);
    // A queue known empty has had no push since a fetch saw it empty (its message would have cleared that).
    return this.waiter.wait(signals, params.timeoutMs, params.signal, () => this.anyReady(params.queues.filter((queue) => !this.knownEmpty(queue))));
  }

  /** Whether any of these queues holds ready jobs and is not paused (a published wake-up's check, see SignalWaiter). */
  private async anyReady(queues: string[]): Promise<boolean> {
    const states = await this.command(() => Promise.all(queues.map((queue) => Promise.all([this.redis.llen(this.q(queue).ready), this.redis.exists(this.q(queue).paused)]))));
    return states.some(([ready, paused]) => ready > 0 && paused === 0);
  }

  async jobAck(params: { queue: string; token: string; jobs: JobAckItem[]; nowMs: number }): Promise<JobAckResult[]> {
    const k = this.q(params.queue);
    // Most acks settle no cookie: send those as bare jids, and the token once, to keep ARGV short.
    const plain = params.jobs.filter((j) => !j.dedupKey);
    const settled = params.jobs.filter((j) => j.dedupKey);
    const strategies = new Map<string, number>();
    for (const j of params.jobs) if (j.strategy) strategies.set(j.strategy, (strategies.get(j.strategy) ?? 0) + 1);
    const args: (string | number)[] = [params.nowMs, params.token, HISTORY_RETENTION_MS, strategies.size, ...[...strategies].flat(), plain.length, ...plain.map((j) => j.jid)];
    for (const j of settled) args.push(j.jid, j.dedupKey!, j.rescheduleJid ?? '', j.rescheduleRaw ?? '', j.rescheduleTtlMs ?? 0);
    const flat = await this.command(() => runScript<(string | number)[]>(this.redis, 'ack', [k.leases, k.active, k.stats, k.dedup, k.ready, k.signal, this.keys.minuteStats(params.queue, minuteOf(params.nowMs))], args));
    const results = new Map<JobAckItem, JobAckResult>();
    [...plain, ...settled].forEach((j, i) => {
      const rescheduled = String(flat[i * 2 + 1]);
      results.set(j, rescheduled ? { jid: j.jid, acked: flat[i * 2] === 1, rescheduled } : { jid: j.jid, acked: flat[i * 2] === 1 });
    });
    return params.jobs.map((j) => results.get(j)!);
  }

  async jobRetry(p: JobLaterParams & { kind: 'retry' | 'snooze' }): Promise<boolean> {
    const k = this.q(p.queue);
    return (await this.later(p, p.kind === 'retry' ? k.retry : k.schedule, p.kind)).moved;
  }

  async jobDead(p: JobDeadParams): Promise<JobDeadResult> {
    return this.later(p, this.q(p.queue).dead, 'dead');
  }

  private async later(p: JobDeadParams, target: string, kind: string): Promise<JobDeadResult> {
    const k = this.q(p.queue);
    const r = p.reschedule;
    const args = [p.jid, p.token, p.raw, p.runAtMs, kind, p.dedupKey ?? '', p.nowMs, p.strategy ?? '', r?.jid ?? '', r?.raw ?? '', r?.ttlMs ?? 0, HISTORY_RETENTION_MS];
    const keys = [k.leases, k.active, target, k.jobs, k.dedup, k.stats, k.ready, k.signal, this.keys.minuteStats(p.queue, minuteOf(p.nowMs))];
    const [moved, absorbed, rescheduled] = await this.command(() => runScript<[number, number, string]>(this.redis, 'later', keys, args));
    return rescheduled ? { moved: moved === 1, absorbed, rescheduled } : { moved: moved === 1, absorbed };
  }

  async jobRequeue(params: { queue: string; token: string; jids: string[] }): Promise<number> {
    if (params.jids.length === 0) return 0;
    const k = this.q(params.queue);
    return this.command(() => runScript<number>(this.redis, 'requeue', [k.leases, k.active, k.ready, k.signal], [params.token, ...params.jids]));
  }

  async leaseRenew(params: { queue: string; token: string; jids: string[]; leaseMs: number; nowMs: number }): Promise<LeaseRenewResult> {
    if (params.jids.length === 0) return { lost: [] };
    const k = this.q(params.queue);
    const lost = await this.command(() => runScript<string[]>(this.redis, 'renew', [k.leases, k.active], [params.token, params.nowMs + params.leaseMs, ...params.jids]));
    return { lost };
  }

  async queueMaintain(p: QueueMaintainParams): Promise<QueueMaintainResult | undefined> {
    const k = this.q(p.queue);
    const keys = [k.ready, k.schedule, k.retry, k.dead, k.jobs, k.leases, k.active, k.signal, k.lock];
    const result = await this.command(() => runScript<[number, number, number, number | string] | null>(this.redis, 'maintain', keys, [p.token, p.nowMs, p.lockMs, p.limit, p.deadMaxSize, p.deadMaxAgeMs, p.readyCap ?? '']));
    if (!result) return undefined;
    const nextDue = Number(result[3]);
    return { promoted: result[0], recovered: result[1], trimmed: result[2], nextDueMs: nextDue < 0 ? undefined : nextDue };
  }

  async queueSizes(queue: string): Promise<QueueSizes> {
    const k = this.keys.queue(queue);
    const replies = await this.command(() => execPipeline(this.redis.pipeline().llen(k.ready).zcard(k.schedule).zcard(k.retry).zcard(k.dead).hlen(k.active).hlen(k.dedup).hkeys(this.keys.limits(queue))));
    const [ready, scheduled, retry, dead, inFlight, dedupKeys] = replies.slice(0, 6).map(Number);
    const deferred = await this.limits.deferredCount(queue, replies[6] as string[]);
    return { ready: ready!, scheduled: scheduled!, retry: retry!, dead: dead!, inFlight: inFlight!, dedupKeys: dedupKeys!, deferred };
  }

  async queueCounters(queue: string): Promise<QueueCounters> {
    const stats = await this.command(() => this.redis.hgetall(this.keys.queue(queue).stats));
    const decisions: Record<string, number> = {};
    for (const [field, value] of Object.entries(stats)) if (field.startsWith('lb:')) decisions[field.slice(3)] = Number(value);
    const count = (field: string): number => Number(stats[field] ?? 0);
    return { processed: count('processed'), failed: count('failed'), deduplicated: count('deduplicated'), rescheduled: count('rescheduled'), decisions };
  }

  async queueList(): Promise<string[]> {
    return this.queues.list();
  }

  queueRemove(queue: string): Promise<QueueRemoveResult> {
    return this.queues.remove(queue);
  }

  async jobList(p: { queue: string; state: JobState; offset: number; limit: number }): Promise<StoredJob[]> {
    const k = this.keys.queue(p.queue);
    const end = p.offset + p.limit - 1;
    if (p.state === 'ready') {
      const raws = await this.command(() => this.redis.lrange(k.ready, -end - 1, -p.offset - 1));
      return raws.reverse().map((raw) => ({ jid: payloadIds(raw).jid ?? '', raw }));
    }
    const set = { scheduled: k.schedule, retry: k.retry, dead: k.dead, active: k.leases }[p.state];
    const flat = await this.command(() => (p.state === 'dead' ? this.redis.zrevrange(set, p.offset, end, 'WITHSCORES') : this.redis.zrange(set, String(p.offset), String(end), 'WITHSCORES')));
    const jids = flat.filter((_, i) => i % 2 === 0);
    if (jids.length === 0) return [];
    const raws = await this.command(() => this.redis.hmget(p.state === 'active' ? k.active : k.jobs, ...jids));
    return jids.map((jid, i) => {
      const raw = raws[i] ?? '';
      return { jid, raw: p.state === 'active' ? raw.slice(raw.indexOf('|') + 1) : raw, score: Number(flat[i * 2 + 1]) };
    });
  }

  async jobRetryNow(p: { queue: string; jid: string; from: 'dead' | 'retry'; nowMs: number }): Promise<boolean> {
    const k = this.q(p.queue);
    const moved = (await this.command(() => runScript<number>(this.redis, 'retryNow', [p.from === 'dead' ? k.dead : k.retry, k.jobs, k.ready, k.signal], [p.jid]))) === 1;
    if (moved) this.queues.register(p.queue);
    return moved;
  }

  async jobDelete(p: { queue: string; jid: string; from: 'dead' | 'retry' | 'scheduled' }): Promise<boolean> {
    const k = this.keys.queue(p.queue);
    const set = { dead: k.dead, retry: k.retry, scheduled: k.schedule }[p.from];
    return (await this.command(() => runScript<number>(this.redis, 'delete', [set, k.jobs, k.dedup], [p.jid]))) === 1;
  }

  async dedupShow(p: { queue: string; key: string; nowMs: number }): Promise<DedupCookie | undefined> {
    return parseCookie(p.key, await this.command(() => this.redis.hget(this.keys.queue(p.queue).dedup, p.key)), p.nowMs);
  }

  async dedupReap(p: { queue: string; token: string; nowMs: number; limit: number; cursor: string }): Promise<{ released: number; cursor: string }> {
    const k = this.keys.queue(p.queue);
    const keys = [k.dedup, k.active, k.schedule, k.retry, k.lock, this.keys.parked(p.queue)];
    const candidates = new Map<string, string>(); // owner jid → cookie key
    let cursor = p.cursor;
    // HSCAN pages of ~200 cookies; the cursor carries over so every cookie gets its turn, however many are alive.
    for (let scanned = 0; scanned < p.limit; scanned += 200) {
      const from = cursor;
      const [next, ...pairs] = await this.command(() => runScript<string[]>(this.redis, 'dedupOrphans', keys, [p.nowMs, from]));
      cursor = next!;
      for (let i = 0; i < pairs.length; i += 2) candidates.set(pairs[i + 1]!, pairs[i]!);
      if (cursor === '0') break;
    }
    if (candidates.size === 0) return { released: 0, cursor };
    // Owners still waiting in the ready list are alive; read it in chunks so Redis is never blocked for long.
    for (let start = 0; candidates.size > 0; start += 1000) {
      const chunk = await this.command(() => this.redis.lrange(k.ready, start, start + 999));
      for (const raw of chunk) candidates.delete(payloadIds(raw).jid ?? '');
      if (chunk.length < 1000) break;
    }
    if (candidates.size === 0) return { released: 0, cursor };
    const released = await this.command(() => runScript<number>(this.redis, 'dedupOrphans', keys, [p.nowMs, '', p.token, ...[...candidates].flatMap(([owner, key]) => [key, owner])]));
    return { released, cursor };
  }

  limitAcquire(params: LimitAcquireParams): Promise<LimitAcquireResult> {
    return this.limits.acquire(params);
  }

  limitRelease(params: LimitReleaseParams): Promise<LimitReleaseResult> {
    return this.limits.release(params);
  }

  limitList(params: { queue: string; nowMs: number }): Promise<LimitUsage[]> {
    return this.limits.list(params);
  }

  queueHistory(params: { queue: string; fromMs: number; toMs: number }): Promise<MinuteCounts[]> {
    return this.records.history(params);
  }

  jobProgress(params: { queue: string; jid: string; value: string; nowMs: number }): Promise<void> {
    return this.records.progress(params);
  }

  jobFinished(params: { queue: string; jid: string; nowMs: number; record?: { value: JobOutcomeRecord; ttlMs: number }; event?: JobEventMessage }): Promise<void> {
    return this.records.finished(params);
  }

  jobLookup(params: { queue: string; jid: string; nowMs: number }): Promise<JobLookup | undefined> {
    return this.records.lookup(params);
  }

  eventsSubscribe(listener: (event: JobEventMessage) => void): Promise<() => Promise<void>> {
    return this.records.subscribe(listener);
  }

  /** The command connection, for the few callers that need raw access (CLI diagnostics, tests). */
  get client(): RedisClient {
    return this.redis;
  }

  scheduleClaim(params: ScheduleClaimParams): Promise<ScheduleClaim> {
    return this.schedules.claim(params);
  }

  scheduleRecord(params: { name: string; tickMs: number; jid: string; nowMs: number }): Promise<void> {
    return this.schedules.record(params);
  }

  schedulePause(params: { name: string; paused: boolean; nowMs: number }): Promise<void> {
    return this.schedules.pause(params);
  }

  scheduleStates(names: string[]): Promise<ScheduleState[]> {
    return this.schedules.states(names);
  }

  async schedulePush(params: JobPushParams & { schedule: string; tickMs: number }): Promise<JobPushResult | { taken: string }> {
    const [keys, args] = this.pushArgs(params);
    // No resend check needed: a resent push finds its own jid in the tick's mark.
    const reply = await this.enqueueCall([params.jid], () =>
      runScript<number | string>(this.redis, 'schedulePush', [...keys, this.keys.cronTicks(params.queue)], [params.schedule, params.tickMs, params.jid, ...args]),
    );
    this.queues.register(params.queue);
    if (typeof reply === 'string' && reply.startsWith('taken|')) {
      const owner = reply.slice('taken|'.length);
      return owner === params.jid ? { pushed: true, jid: params.jid } : { taken: owner };
    }
    return pushResult(reply, params.jid);
  }

  async close(): Promise<void> {
    this.waiter.close();
    this.records.close();
    // QUIT lets replies in flight arrive first, but a hung Redis would never answer it.
    if (this.redis.status === 'ready') await Promise.race([this.redis.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    this.redis.disconnect();
  }
}

/** No dedup and due now: a two-key LPUSH script, far cheaper than the full push script's 4 keys and 5-7 args. */
function isPlain(p: JobPushParams): boolean {
  return !p.dedup && isDueNow(p);
}
