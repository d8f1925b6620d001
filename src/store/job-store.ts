import type { WalLocations } from '../jobs/payload.js';
import type { LimitAcquireParams, LimitAcquireResult, LimitReleaseParams, LimitReleaseResult, LimitUsage } from './limits.js';
import type { JobEventMessage, JobLookup, JobOutcomeRecord, MinuteCounts } from './job-records.js';

/**
 * The storage seam. Every implementation (Redis, memory) passes test/conformance/job-store.suite.ts; that suite,
 * not a reading of this file, defines the behaviour. Payloads cross the seam as encoded strings so a store
 * never shares mutable objects with callers and malformed data is seen exactly as Redis would hold it.
 * Times are epoch ms from the caller's injected clock.
 */
export interface JobStore {
  jobPush(params: JobPushParams): Promise<JobPushResult>;
  /** One round trip for the whole batch; results in input order. */
  jobPushMany(params: JobPushParams[]): Promise<JobPushResult[]>;
  /** Hand out up to `count` ready jobs under a lease owned by `token`. Never blocks. */
  jobFetch(params: JobFetchParams): Promise<FetchedJob[]>;
  /**
   * Runs `send` and returns what it returns, with the calls it starts written to the store together: on Redis one
   * socket write (one system call on each side) for a worker's acks and fetch of one tick. Optional: a store without
   * it is called as usual.
   */
  inOneWrite?<T>(send: () => T): T;
  /** Resolve when a queue may have ready jobs, after `timeoutMs`, or when `signal` aborts. */
  jobWait(params: { queues: string[]; timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  /** Finish jobs: release the lease, count them, settle until_executed cookies (with reschedule_once). */
  jobAck(params: { queue: string; token: string; jobs: JobAckItem[]; nowMs: number }): Promise<JobAckResult[]>;
  /** Put a leased job back for later: a retry (counted) or a snooze (not counted). `raw` is the updated payload. */
  jobRetry(params: JobLaterParams & { kind: 'retry' | 'snooze' }): Promise<boolean>;
  /**
   * Move a leased job to the dead set with its updated payload; releases its dedup cookie. When the cookie had
   * absorbed twins, says how many, and with `reschedule` pushes that job once more in the same step (their work).
   */
  jobDead(params: JobDeadParams): Promise<JobDeadResult>;
  /** Put leased jobs back at the front of the ready list now (graceful shutdown). */
  jobRequeue(params: { queue: string; token: string; jids: string[] }): Promise<number>;
  /**
   * Extend the leases of these jobs (one call per queue per heartbeat), in one atomic step. Only leases still held
   * under `token` are extended: a job whose lease expired and was handed to another worker keeps that worker's
   * lease. Returns the jids whose lease this token no longer holds.
   */
  leaseRenew(params: { queue: string; token: string; jids: string[]; leaseMs: number; nowMs: number }): Promise<LeaseRenewResult>;
  /** Promote due scheduled/retry jobs, recover expired leases, cap the dead set. At most one caller at a time. */
  queueMaintain(params: QueueMaintainParams): Promise<QueueMaintainResult | undefined>;
  queueSizes(queue: string): Promise<QueueSizes>;
  /** Running totals of a queue, shared by every process on the store (the dashboard's rates come from these). */
  queueCounters(queue: string): Promise<QueueCounters>;
  /** Queues registered by a successful write (push, retry-now); a read or a failed write registers nothing. */
  queueList(): Promise<string[]>;
  /** Forget a registered queue; refused while it holds jobs (ready, scheduled, retrying, dead or in flight). */
  queueRemove(queue: string): Promise<QueueRemoveResult>;
  /** Jobs of one state: next to run first (ready list, schedule, retry, leases), newest first for the dead set. */
  jobList(params: { queue: string; state: JobState; offset: number; limit: number }): Promise<StoredJob[]>;
  /** Move a dead or retrying job back to the ready list. */
  jobRetryNow(params: { queue: string; jid: string; from: 'dead' | 'retry'; nowMs: number }): Promise<boolean>;
  jobDelete(params: { queue: string; jid: string; from: 'dead' | 'retry' | 'scheduled' }): Promise<boolean>;
  /** Dedup cookie for diagnostics (`lagless dedup show`). */
  dedupShow(params: { queue: string; key: string; nowMs: number }): Promise<DedupCookie | undefined>;
  /**
   * Look at up to `limit` cookies from `cursor` ('0' = start) and delete those whose owner is in no ready list,
   * lease, schedule or retry set, and expired ones. Pass the returned cursor next time; '0' = a full pass ended.
   * Call it as the holder of the queue's maintenance lock (`token`, see queueMaintain): nothing is released
   * once the lock is lost.
   */
  dedupReap(params: { queue: string; token: string; nowMs: number; limit: number; cursor: string }): Promise<{ released: number; cursor: string }>;
  close(): Promise<void>;
  /**
   * jobFetch over several queues in one call: takes the first queue's ready jobs (up to `count`), then the next
   * queue's, and so on, passing over paused queues. One round trip wherever the queues' keys may share a script
   * (any queues on a single Redis); each job says its queue. A resend (same fetchId, same queues in the same
   * order) hands back what the first attempt leased from any of the queues, and leases no more.
   */
  jobFetchMany(params: JobFetchManyParams): Promise<FetchedQueueJob[]>;
  /**
   * Pause a queue: no fetch hands out its jobs until queueResume (jobs fetched before keep running); enqueues,
   * scheduling and maintenance go on. Persisted; registers the queue. Returns false if it was paused already.
   */
  queuePause(params: { queue: string; nowMs: number }): Promise<boolean>;
  /** Let fetches take a paused queue's jobs again and wake its workers. Returns false if it was not paused. */
  queueResume(queue: string): Promise<boolean>;
  /** When each queue was paused (epoch ms), in input order; undefined for a queue that is not paused. */
  queuePausedAt(queues: string[]): Promise<(number | undefined)[]>;
  /**
   * The partitions of a queue (`queue#0`…, a partitioned queue on Redis), each readable on its own with the calls
   * above, while the queue's name reads their sum (with the queue's own keys: README, Partitioned queues). A queue
   * without partitions: [queue]. Absent: no store-level partitions.
   */
  queuePartitions?(queue: string): Promise<string[]>;
  /**
   * jobPushMany with each job's own outcome: its result, or the error that refused it alone (a script error).
   * One round trip; jobs go in input order, so twins of one key meet each other as sequential pushes would. A
   * deadline error (StoreUnavailableError, EnqueueOutcomeUnknownError) is the whole call's, and rejects it.
   */
  jobPushEach(params: JobPushParams[]): Promise<(JobPushResult | Error)[]>;
  /**
   * Concurrency and rate limits (invariants in store/limits.ts). Before perform, for a job leased under `token`:
   * grant it, or park it in its class's deferred list and release its lease, in one atomic step.
   */
  limitAcquire(params: LimitAcquireParams): Promise<LimitAcquireResult>;
  /** After settling a granted job (`jid`), or as a wake-up: free its slot, move deferred jobs whose turn came to the ready list. */
  limitRelease(params: LimitReleaseParams): Promise<LimitReleaseResult>;
  /** Every limited worker class of a queue, with its limits and current usage. */
  limitList(params: { queue: string; nowMs: number }): Promise<LimitUsage[]>;
  /** Processed and failed counts per minute over [fromMs, toMs] (every minute, zeros included; at most a day back). */
  queueHistory(params: { queue: string; fromMs: number; toMs: number }): Promise<MinuteCounts[]>;
  /** Keep a running job's progress (JSON text) for the dashboard and `app.jobs.get`; expires PROGRESS_TTL_MS after. */
  jobProgress(params: { queue: string; jid: string; value: string; nowMs: number }): Promise<void>;
  /**
   * After a job settled: keep its outcome record for `ttlMs` (keepResult) and/or publish its event on the queue's
   * channel, for `app.events` and `app.jobs.wait` in every process.
   */
  jobFinished(params: { queue: string; jid: string; nowMs: number; record?: { value: JobOutcomeRecord; ttlMs: number }; event?: JobEventMessage }): Promise<void>;
  /** Where a job is (ready within LOOKUP_READY_SCAN of the head, scheduled, retry, dead, active, completed); undefined if nowhere. */
  jobLookup(params: { queue: string; jid: string; nowMs: number }): Promise<JobLookup | undefined>;
  /** Receive every queue's job events until the returned function is called. */
  eventsSubscribe(listener: (event: JobEventMessage) => void): Promise<() => Promise<void>>;
  /**
   * Claim one tick of a cron schedule, atomically: of every caller passing the same name, definition and tick,
   * exactly one gets 'claimed' (or 'paused', 'first'); the rest get 'taken'. Ticks are remembered per definition
   * (a hash of the schedule's options), so a changed schedule starts afresh: its first claim gets 'first' and
   * records the tick without enqueueing. A tick older than the latest one claimed is 'taken'. While the schedule
   * is paused, ticks are claimed as 'paused' (so resuming does not fire the ticks missed meanwhile).
   * With `lease`, a 'claimed' tick stays pending until scheduleRecord records it: meanwhile its claims get
   * 'pending', and once the lease has run out one of them gets 'claimed' again (with a new lease), so a claimer
   * that died or failed before its enqueue is taken over. schedulePush keeps the takeover from enqueueing twice.
   */
  scheduleClaim(params: ScheduleClaimParams): Promise<ScheduleClaim>;
  /** Record the job a claimed tick enqueued: last tick, last run and last jid of the schedule. */
  scheduleRecord(params: { name: string; tickMs: number; jid: string; nowMs: number }): Promise<void>;
  /** Pause or resume a schedule by name; the pause survives restarts and changes to its definition. */
  schedulePause(params: { name: string; paused: boolean; nowMs: number }): Promise<void>;
  /** Stored state of these schedules, in the same order (all fields absent for one never seen). */
  scheduleStates(names: string[]): Promise<ScheduleState[]>;
  /**
   * Push a cron tick's job only if no job was pushed yet for this tick (or a later one) of `schedule` on this queue,
   * in one atomic step with the push: the tick's one enqueue, however many claimers (a slow one and the one that took
   * over its lease) get this far. A tick already pushed comes back as { taken: the jid of its job } and pushes
   * nothing; the same jid pushed again (a resend) comes back pushed.
   */
  schedulePush(params: JobPushParams & { schedule: string; tickMs: number }): Promise<JobPushResult | { taken: string }>;
}

/** 'first': a definition seen for the first time, its tick recorded as a starting point, nothing to enqueue. */
export interface ScheduleClaimParams {
  name: string;
  definition: string;
  tickMs: number;
  /** Keep a claimed tick pending until recorded, for `ms` from `nowMs` (epoch ms); see scheduleClaim. */
  lease?: { nowMs: number; ms: number };
}

/** 'pending': claimed by a caller whose lease has not run out yet; ask again later. */
export type ScheduleClaim = 'claimed' | 'taken' | 'paused' | 'first' | 'pending';

export interface ScheduleState {
  /** Epoch ms when the schedule was paused; absent while it runs. */
  pausedAtMs?: number;
  /** The tick (epoch ms) of the last job enqueued, when it was enqueued, and its jid. */
  lastTickMs?: number;
  lastRunMs?: number;
  lastJid?: string;
}

/** Most jobs one jobFetch hands out, whatever count is asked: bounds a fetch script's run time and reply. */
export const FETCH_MAX = 1000;

/**
 * Fetches one worker keeps in flight at most (worker-runtime.ts pump). A store remembers as many of a worker's last
 * fetches, so a resend of any of them gets back what it leased (scripts/fetch-1+n.lua keeps the same number).
 */
export const FETCHES_IN_FLIGHT = 2;

export type DedupStrategy = 'until_executing' | 'until_executed';
export type JobState = 'ready' | 'scheduled' | 'retry' | 'dead' | 'active';

export interface DedupPushParams {
  key: string;
  strategy: DedupStrategy;
  /** Idempotent workers are absorbed; others are pushed with duplicate-of set. */
  idempotent: boolean;
  /** Cookie lifetime from now; a safety net only, never reset by later duplicates. */
  ttlMs: number;
  /** This enqueue's WAL locations; raised into the cookie (max per db) when `preserveLatestWal`. */
  wal?: WalLocations;
  preserveLatestWal: boolean;
  rescheduleOnce: boolean;
}

export interface JobPushParams {
  queue: string;
  jid: string;
  raw: string;
  nowMs: number;
  /** Epoch ms when the job becomes due; absent or <= nowMs means ready now. */
  runAtMs?: number;
  dedup?: DedupPushParams;
  /**
   * A limited worker's job: on a partitioned queue it stays in the queue's own keys, where its class's limit state
   * lives (redis/partition-router.ts). No effect elsewhere.
   */
  pinned?: boolean;
  /**
   * Quiet twins the caller folded into this push instead of sending them (client/push-coalescer.ts): enqueues
   * right after it of the same idempotent key, due now at the same nowMs, with no WAL position to add. Each is
   * certainly absorbed by the cookie's owner, so the store counts them as absorbed (in the cookie, and while it
   * executes, and in the queue's deduplicated count) as it would count each pushed alone. Set on a deduplicated
   * push due now, in jobPushEach only.
   */
  twins?: number;
}

/** Due now: ready at once rather than scheduled (a run time not after `nowMs` counts as now). */
export function isDueNow(p: Pick<JobPushParams, 'runAtMs' | 'nowMs'>): boolean {
  return !(p.runAtMs && p.runAtMs > p.nowMs);
}

export type JobPushResult =
  | { pushed: true; jid: string; duplicateOf?: string }
  /** Absorbed by the cookie's owner; `walRaised` names the databases whose cookie WAL this enqueue raised. */
  | { pushed: false; jid: string; duplicateOf: string; walRaised: string[] };

export interface JobFetchParams {
  queue: string;
  count: number;
  token: string;
  leaseMs: number;
  nowMs: number;
  /**
   * Names this fetch for a resend: a fetch whose reply was lost, sent again with the same id, hands back the jobs
   * the first one leased (those still held) and leases no more. Default: a fresh id per call.
   */
  fetchId?: string;
  /**
   * The caller's other fetches still unanswered (in flight, or failed and to be sent again): the store keeps their
   * memos and this fetch's, so a resend gets its jobs back however many newer fetches ran before it (a fetch resent
   * after a reconnect can be overtaken by several). Without it, the memos of the last FETCHES_IN_FLIGHT fetches.
   */
  openFetchIds?: string[];
}

export interface JobFetchManyParams extends Omit<JobFetchParams, 'queue'> {
  /** Queues in the order to take from (a worker's priority order for this fetch); no repeats. */
  queues: string[];
}

export interface FetchedQueueJob extends FetchedJob {
  queue: string;
}

export interface FetchedJob {
  /** The lease id: settle the job under this id, whatever its payload says (a foreign payload may disagree). */
  jid: string;
  /**
   * The payload; for a job owning its dedup cookie, with the cookie's WAL locations written in as
   * `dedup_wal_locations` (until_executing: read and released in this same step).
   */
  raw: string;
}

export interface JobAckItem {
  jid: string;
  /** The execution's load-balancing decision, counted in the queue's shared counters. */
  strategy?: string;
  /** until_executed cookie to settle; with `rescheduleRaw` a job is re-enqueued once if a duplicate arrived while it ran. */
  dedupKey?: string;
  /** A JSON object without `wal_locations`; the store adds the cookie's latest locations when it pushes it. */
  rescheduleRaw?: string;
  rescheduleJid?: string;
  rescheduleTtlMs?: number;
}

export interface LeaseRenewResult {
  /** Jids not held by the token any more (recovered, settled, or leased to another worker): not extended. */
  lost: string[];
}

export interface JobAckResult {
  jid: string;
  acked: boolean;
  /** jid of the job re-enqueued by reschedule_once. */
  rescheduled?: string;
}

export interface JobLaterParams {
  queue: string;
  jid: string;
  token: string;
  raw: string;
  nowMs: number;
  runAtMs: number;
  dedupKey?: string;
  /** The execution's load-balancing decision, counted in the queue's shared counters. */
  strategy?: string;
}

export interface JobDeadParams extends JobLaterParams {
  /** reschedule_once: the job pushed ready if the released cookie had absorbed twins (as JobAckItem's reschedule*). */
  reschedule?: { jid: string; raw: string; ttlMs: number };
}

export interface JobDeadResult {
  moved: boolean;
  /** Twins absorbed by the released until_executed cookie: no attempt of the dead job succeeded for them. */
  absorbed: number;
  /** jid of the job pushed for them with `reschedule`; it now owns the cookie. */
  rescheduled?: string;
}

export interface QueueMaintainParams {
  queue: string;
  token: string;
  nowMs: number;
  lockMs: number;
  limit: number;
  deadMaxSize: number;
  deadMaxAgeMs: number;
  /**
   * Promote due jobs only while the ready list holds fewer than this (default: no cap). Due jobs then wait in their
   * set, in order, instead of being moved all at once ahead of the workers, each move holding the store.
   */
  readyCap?: number;
}

export interface QueueMaintainResult {
  promoted: number;
  recovered: number;
  trimmed: number;
  /** When the earliest job still scheduled or waiting to retry comes due (undefined: none). */
  nextDueMs: number | undefined;
}

export interface QueueSizes {
  ready: number;
  scheduled: number;
  retry: number;
  dead: number;
  inFlight: number;
  dedupKeys: number;
  /** Jobs parked by a concurrency or rate limit until their turn (store/limits.ts), all classes together. */
  deferred: number;
}

export type QueueRemoveResult =
  | { removed: true }
  | { removed: false; reason: 'unknown' }
  | { removed: false; reason: 'not_empty'; sizes: QueueSizes };

/** Whether a queue holds any job (dedup cookies alone are not jobs). */
export function holdsJobs(sizes: QueueSizes): boolean {
  return sizes.ready + sizes.scheduled + sizes.retry + sizes.dead + sizes.inFlight + sizes.deferred > 0;
}

/** Cumulative counts since the queue was first used; a rate is the difference of two readings. */
export interface QueueCounters {
  /** Jobs acked as done. */
  processed: number;
  /** Executions that failed: moved to retry or dead (snoozes are not failures). */
  failed: number;
  /** Enqueues absorbed by an idempotent twin's dedup cookie. */
  deduplicated: number;
  /** Jobs re-enqueued once by reschedule_once. */
  rescheduled: number;
  /** Load-balancing decisions of settled executions by strategy, from every worker process. */
  decisions: Record<string, number>;
}

export interface StoredJob {
  jid: string;
  raw: string;
  /** Due time (scheduled/retry), time of death (dead) or lease expiry (active), epoch ms. */
  score?: number;
}

export interface DedupCookie {
  key: string;
  strategy: DedupStrategy;
  ownerJid: string;
  absorbed: number;
  ttlMs: number;
  wal: WalLocations;
  executing: boolean;
  absorbedWhileExecuting: number;
}
