import type { JobStore, JobPushParams, JobPushResult, FetchedJob, FetchedQueueJob, JobFetchParams, JobFetchManyParams, JobAckItem, JobAckResult, JobLaterParams, JobDeadParams, JobDeadResult, LeaseRenewResult, QueueMaintainParams, QueueMaintainResult, QueueSizes, QueueCounters, QueueRemoveResult, JobState, StoredJob, DedupCookie, ScheduleClaimParams, ScheduleClaim, ScheduleState } from '../store/job-store.js';
import type { LimitAcquireParams, LimitAcquireResult, LimitReleaseParams, LimitReleaseResult, LimitUsage } from '../store/limits.js';
import type { JobEventMessage, JobLookup, JobOutcomeRecord, MinuteCounts } from '../store/job-records.js';
import { isCluster, type RedisClient } from './connection.js';
import { partitionName, partitionOf, type RedisKeys } from './keys.js';
import { PartitionRouter, partitionIndex } from './partition-router.js';
import type { RedisJobStore } from './redis-store.js';

/** How often a worker process re-reads which physical queues exist (partitions left behind by a lowered N). */
const KNOWN_REFRESH_MS = 10_000;

/** Jobs of push calls in a row that go to one partition (at least) when any partition will do (see routedInChunk). */
const SPREAD_CHUNK = 100;

/**
 * Partitioned queues over a RedisJobStore, which knows physical queues only (`q`, `q#0`, …; keys.ts). Callers name
 * queues as users do; this layer routes pushes (PartitionRouter), fetches and waits across every physical queue of
 * a queue, settles each job in the partition it was leased from, and sums reads. A queue without partitions (and
 * none left over in the queue registry) is passed straight through: the same keys as ever.
 * The partition of each job this process holds a lease on is kept here, by jid, from its fetch until it is settled
 * (ack, retry, dead, requeue, or parked by a limit): that is where its lease, cookie and counts live.
 */
export class PartitionedStore implements JobStore {
  private readonly router: PartitionRouter;
  /** Per queue, the partition of the chunk under way, how many jobs it still takes, and the last push call it took. */
  private readonly spreadChunks = new Map<string, { queue: string; left: number; call: number }>();
  /** Push calls so far (jobPushEach): a chunk ends between calls, not inside one (see routedInChunk). */
  private pushCalls = 0;
  /** jid → physical queue, for leased jobs not in their queue's own keys. */
  private readonly leasedIn = new Map<string, string>();
  /** Physical queues in the registry, refreshed in the background for the hot paths. */
  private known: string[] = [];
  private knownAt = -Infinity;
  /** physicalCached's answers until `known` changes: fetch and wait ask on every cycle. */
  private readonly physicalMemo = new Map<string, string[]>();
  /** Physical order sent by a fetch that got no reply: its resend (same id) must send the same (see jobFetchMany). */
  private readonly unanswered = new Map<string, string[]>();

  constructor(
    readonly inner: RedisJobStore,
    partitions: Readonly<Record<string, number>> = {},
  ) {
    this.router = new PartitionRouter(partitions, (physical) => this.masterOf(physical));
  }

  /** Slot of each physical queue (CLUSTER KEYSLOT, asked once), on a cluster: what spreads load over masters. */
  private readonly slots = new Map<string, number>();

  private masterOf(physical: string): string | undefined {
    const client = this.inner.client;
    if (!isCluster(client)) return undefined;
    const slot = this.slots.get(physical);
    if (slot === undefined) {
      this.slots.set(physical, -1);
      client.cluster('KEYSLOT', this.inner.keys.queue(physical).ready).then(
        (at) => this.slots.set(physical, Number(at)),
        () => this.slots.delete(physical),
      );
      return undefined;
    }
    return slot < 0 ? undefined : client.slots[slot]?.[0];
  }

  /** The command connection and key builder of the store underneath (CLI diagnostics, tests). */
  get client(): RedisClient {
    return this.inner.client;
  }

  get keys(): RedisKeys {
    return this.inner.keys;
  }

  private logical(physical: string): string {
    return partitionOf(physical).queue;
  }

  /** Fresh registry read: for reads and admin calls, which must see every partition that holds jobs. */
  private async physicalNow(queue: string): Promise<string[]> {
    return this.router.physical(queue, await this.inner.queueList());
  }

  /** Cached registry read, refreshed without waiting: for fetch, wait and maintenance. */
  private physicalCached(queue: string): string[] {
    const now = performance.now();
    if (now - this.knownAt > KNOWN_REFRESH_MS) {
      this.knownAt = now;
      this.inner.queueList().then(
        (known) => {
          this.known = known;
          this.physicalMemo.clear();
        },
        () => (this.knownAt = -Infinity),
      );
    }
    let names = this.physicalMemo.get(queue);
    if (!names) this.physicalMemo.set(queue, (names = this.router.physical(queue, this.known)));
    return names;
  }

  private heldIn(queue: string, jid: string): string {
    return this.leasedIn.get(jid) ?? queue;
  }

  private routed<T extends JobPushParams>(p: T, cronTick = false): T {
    const queue = this.router.route(p, cronTick);
    return queue === p.queue ? p : { ...p, queue };
  }

  /**
   * A job of a push call (a tick's enqueues, enqueueMany) free to go to any partition (router.spreads) goes where the
   * jobs of calls before it went, SPREAD_CHUNK in a row (or more), then to the router's next partition: so the
   * enqueues of one tick cost one call on one master (a tick sent as two calls, see PushCoalescer, too) and a worker
   * finds them together, where each partition a fetch or an ack visits is one more script call on a cluster. A chunk
   * ends between calls: a call of at most 2 × SPREAD_CHUNK such jobs for the queue is never split, the chunk it starts
   * in takes them all (a tick that crossed a chunk's end was one more push call, and its jobs one more fetch and ack,
   * for nothing; a paced 10,000 jobs/s makes ticks of ~115). A larger call (a bulk enqueueMany) goes on to the next
   * partition every SPREAD_CHUNK jobs, so it spreads. The spread is over chunks instead of jobs. A lone push takes
   * the router's next partition.
   */
  private routedInChunk<T extends JobPushParams>(p: T, bulk: boolean): T {
    if (!this.router.spreads(p)) return this.routed(p);
    let chunk = this.spreadChunks.get(p.queue);
    if (!chunk || (chunk.left <= 0 && (bulk || chunk.call !== this.pushCalls))) {
      this.spreadChunks.set(p.queue, (chunk = { queue: this.router.route(p), left: SPREAD_CHUNK, call: this.pushCalls }));
    }
    chunk.left--;
    chunk.call = this.pushCalls;
    return { ...p, queue: chunk.queue };
  }

  jobPush(params: JobPushParams): Promise<JobPushResult> {
    return this.inner.jobPush(this.routed(params));
  }

  async jobPushMany(params: JobPushParams[]): Promise<JobPushResult[]> {
    const outcomes = await this.jobPushEach(params);
    for (const outcome of outcomes) if (outcome instanceof Error) throw outcome;
    return outcomes as JobPushResult[];
  }

  /**
   * Jobs of one physical queue are sent together (the inner store makes one call per run of one queue): a stable
   * sort by physical queue keeps each partition's jobs in input order, and twins share a partition.
   */
  async jobPushEach(params: JobPushParams[]): Promise<(JobPushResult | Error)[]> {
    if (!params.some((p) => this.router.count(p.queue) > 1)) return this.inner.jobPushEach(params);
    this.pushCalls++;
    const spreading = new Map<string, number>();
    for (const p of params) if (this.router.spreads(p)) spreading.set(p.queue, (spreading.get(p.queue) ?? 0) + 1);
    const routed = params.map((p) => this.routedInChunk(p, (spreading.get(p.queue) ?? 0) > 2 * SPREAD_CHUNK));
    const order = routed.map((_, i) => i).sort((a, b) => (routed[a]!.queue < routed[b]!.queue ? -1 : routed[a]!.queue > routed[b]!.queue ? 1 : a - b));
    const outcomes = await this.inner.jobPushEach(order.map((i) => routed[i]!));
    const inOrder = new Array<JobPushResult | Error>(params.length);
    order.forEach((i, j) => (inOrder[i] = outcomes[j]!));
    return inOrder;
  }

  async jobFetch({ queue, ...p }: JobFetchParams): Promise<FetchedJob[]> {
    return (await this.jobFetchMany({ ...p, queues: [queue] })).map(({ jid, raw }) => ({ jid, raw }));
  }

  /**
   * Each queue becomes its physical queues in its place (so partitions take their queue's priority), starting at a
   * partition that turns with every fetch. A resend (same fetch id) sends the physical order of its first attempt.
   */
  async jobFetchMany(p: JobFetchManyParams): Promise<FetchedQueueJob[]> {
    // No partitions among these queues: their names are their keys, in a fixed order a resend repeats by itself.
    if (p.queues.every((queue) => this.physicalCached(queue).length === 1 && partitionOf(queue).index === undefined)) return this.inner.jobFetchMany(p);
    const sent = p.fetchId === undefined ? undefined : `${p.token}|${p.fetchId}`;
    const queues = (sent && this.unanswered.get(sent)) || p.queues.flatMap((queue) => this.rotated(queue));
    if (queues.length === 0) return [];
    if (sent) this.unanswered.set(sent, queues);
    const jobs = await this.inner.jobFetchMany({ ...p, queues });
    if (sent) this.unanswered.delete(sent);
    return jobs.map((job) => {
      const queue = this.logical(job.queue);
      if (queue === job.queue) return job;
      this.leasedIn.set(job.jid, job.queue);
      return { ...job, queue };
    });
  }

  /**
   * Starting at the partition the router's turn picks (masters in turn), then alternating between masters; on a
   * cluster, without the partitions known empty (RedisJobStore.knownEmpty): each costs a round trip there.
   */
  private rotated(queue: string): string[] {
    const names = this.physicalCached(queue);
    return names.length === 1 ? names : this.router.order(`fetch:${queue}`, names).filter((name) => !this.inner.knownEmpty(name));
  }

  inOneWrite<T>(send: () => T): T {
    return this.inner.inOneWrite(send);
  }

  jobWait(params: { queues: string[]; timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    return this.inner.jobWait({ ...params, queues: params.queues.flatMap((queue) => this.physicalCached(queue)) });
  }

  async jobAck(params: { queue: string; token: string; jobs: JobAckItem[]; nowMs: number }): Promise<JobAckResult[]> {
    if (this.leasedIn.size === 0) return this.inner.jobAck(params); // every job held here is in its queue's own keys
    const byPhysical = groupBy(params.jobs, (j) => this.heldIn(params.queue, j.jid));
    const results = new Map<JobAckItem, JobAckResult>();
    await Promise.all(
      [...byPhysical].map(async ([queue, jobs]) => {
        const acked = await this.inner.jobAck({ ...params, queue, jobs });
        jobs.forEach((j, i) => results.set(j, acked[i]!));
      }),
    );
    for (const j of params.jobs) this.leasedIn.delete(j.jid);
    return params.jobs.map((j) => results.get(j)!);
  }

  async jobRetry(params: JobLaterParams & { kind: 'retry' | 'snooze' }): Promise<boolean> {
    const moved = await this.inner.jobRetry({ ...params, queue: this.heldIn(params.queue, params.jid) });
    this.leasedIn.delete(params.jid);
    return moved;
  }

  async jobDead(params: JobDeadParams): Promise<JobDeadResult> {
    const result = await this.inner.jobDead({ ...params, queue: this.heldIn(params.queue, params.jid) });
    this.leasedIn.delete(params.jid);
    return result;
  }

  async jobRequeue(params: { queue: string; token: string; jids: string[] }): Promise<number> {
    if (this.leasedIn.size === 0) return this.inner.jobRequeue(params);
    const counts = await Promise.all([...groupBy(params.jids, (jid) => this.heldIn(params.queue, jid))].map(([queue, jids]) => this.inner.jobRequeue({ ...params, queue, jids })));
    for (const jid of params.jids) this.leasedIn.delete(jid);
    return sum(counts);
  }

  async leaseRenew(params: { queue: string; token: string; jids: string[]; leaseMs: number; nowMs: number }): Promise<LeaseRenewResult> {
    if (this.leasedIn.size === 0) return this.inner.leaseRenew(params);
    const replies = await Promise.all([...groupBy(params.jids, (jid) => this.heldIn(params.queue, jid))].map(([queue, jids]) => this.inner.leaseRenew({ ...params, queue, jids })));
    return { lost: replies.flatMap((r) => r.lost) };
  }

  /** Every physical queue has its own lock, so maintenance of the partitions may run in different processes. */
  async queueMaintain(params: QueueMaintainParams): Promise<QueueMaintainResult | undefined> {
    const results = await Promise.all(this.physicalCached(params.queue).map((queue) => this.inner.queueMaintain({ ...params, queue })));
    const held = results.filter((r): r is QueueMaintainResult => r !== undefined);
    if (held.length === 0) return undefined;
    return { promoted: sum(held.map((r) => r.promoted)), recovered: sum(held.map((r) => r.recovered)), trimmed: sum(held.map((r) => r.trimmed)), nextDueMs: earliest(held.map((r) => r.nextDueMs)) };
  }

  async queueSizes(queue: string): Promise<QueueSizes> {
    const all = await Promise.all((await this.physicalNow(queue)).map((name) => this.inner.queueSizes(name)));
    return all.reduce((a, b) => ({ ready: a.ready + b.ready, scheduled: a.scheduled + b.scheduled, retry: a.retry + b.retry, dead: a.dead + b.dead, inFlight: a.inFlight + b.inFlight, dedupKeys: a.dedupKeys + b.dedupKeys, deferred: a.deferred + b.deferred }));
  }

  async queueCounters(queue: string): Promise<QueueCounters> {
    const all = await Promise.all((await this.physicalNow(queue)).map((name) => this.inner.queueCounters(name)));
    const decisions: Record<string, number> = {};
    for (const c of all) for (const [strategy, n] of Object.entries(c.decisions)) decisions[strategy] = (decisions[strategy] ?? 0) + n;
    const total = (field: 'processed' | 'failed' | 'deduplicated' | 'rescheduled'): number => sum(all.map((c) => c[field]));
    return { processed: total('processed'), failed: total('failed'), deduplicated: total('deduplicated'), rescheduled: total('rescheduled'), decisions };
  }

  /** Queue names as users gave them: a partition registered alone (`q#3`) lists as `q`. */
  async queueList(): Promise<string[]> {
    return [...new Set((await this.inner.queueList()).map((name) => this.logical(name)))].sort();
  }

  /** The partitions alone (`q#0`, …): the queue's own keys have no name of their own, `q` reads the sum. */
  async queuePartitions(queue: string): Promise<string[]> {
    const names = await this.physicalNow(queue);
    return names.length === 1 ? names : names.slice(1);
  }

  /** Removed only when every physical queue is empty; each is removed with the inner store's check-remove-check. */
  async queueRemove(queue: string): Promise<QueueRemoveResult> {
    const names = await this.physicalNow(queue);
    const sizes = await this.queueSizes(queue);
    if (sizes.ready + sizes.scheduled + sizes.retry + sizes.dead + sizes.inFlight + sizes.deferred > 0) return { removed: false, reason: 'not_empty', sizes };
    const results = await Promise.all(names.map((name) => this.inner.queueRemove(name)));
    const refused = results.find((r) => !r.removed && r.reason === 'not_empty');
    if (refused) return refused;
    return results.some((r) => r.removed) ? { removed: true } : { removed: false, reason: 'unknown' };
  }

  /**
   * The jobs of every partition, merged: ready ones partition by partition, the others by score (newest dead first).
   * Reads offset + limit of each, so deep pages cost more than on one queue.
   */
  async jobList(p: { queue: string; state: JobState; offset: number; limit: number }): Promise<StoredJob[]> {
    const names = await this.physicalNow(p.queue);
    if (names.length === 1) return this.inner.jobList(p);
    const pages = await Promise.all(names.map((queue) => this.inner.jobList({ queue, state: p.state, offset: 0, limit: p.offset + p.limit })));
    const all = pages.flat();
    if (p.state !== 'ready') all.sort((a, b) => (p.state === 'dead' ? (b.score ?? 0) - (a.score ?? 0) : (a.score ?? 0) - (b.score ?? 0)));
    return all.slice(p.offset, p.offset + p.limit);
  }

  async jobRetryNow(p: { queue: string; jid: string; from: 'dead' | 'retry'; nowMs: number }): Promise<boolean> {
    for (const queue of await this.physicalNow(p.queue)) if (await this.inner.jobRetryNow({ ...p, queue })) return true;
    return false;
  }

  async jobDelete(p: { queue: string; jid: string; from: 'dead' | 'retry' | 'scheduled' }): Promise<boolean> {
    for (const queue of await this.physicalNow(p.queue)) if (await this.inner.jobDelete({ ...p, queue })) return true;
    return false;
  }

  /** The key's partition first (where an enqueue puts it), then the queue's own keys (a limited worker's jobs). */
  async dedupShow(p: { queue: string; key: string; nowMs: number }): Promise<DedupCookie | undefined> {
    const n = this.router.count(p.queue);
    const routed = n > 1 ? partitionName(p.queue, partitionIndex(p.key, n)) : p.queue;
    for (const queue of new Set([routed, ...(await this.physicalNow(p.queue))])) {
      const cookie = await this.inner.dedupShow({ ...p, queue });
      if (cookie) return cookie;
    }
    return undefined;
  }

  /** One physical queue at a time; the cursor says which: "<index>:<its cursor>" ('0' = a full pass ended). */
  async dedupReap(p: { queue: string; token: string; nowMs: number; limit: number; cursor: string }): Promise<{ released: number; cursor: string }> {
    const names = this.physicalCached(p.queue);
    if (names.length === 1) return this.inner.dedupReap(p);
    const at = p.cursor.indexOf(':');
    const index = at < 0 ? 0 : Math.min(Number(p.cursor.slice(0, at)) || 0, names.length - 1);
    const { released, cursor } = await this.inner.dedupReap({ ...p, queue: names[index]!, cursor: at < 0 ? '0' : p.cursor.slice(at + 1) });
    if (cursor !== '0') return { released, cursor: `${index}:${cursor}` };
    return { released, cursor: index + 1 < names.length ? `${index + 1}:0` : '0' };
  }

  async queuePause(p: { queue: string; nowMs: number }): Promise<boolean> {
    const [own] = await Promise.all((await this.physicalNow(p.queue)).map((queue) => this.inner.queuePause({ ...p, queue })));
    return own!;
  }

  async queueResume(queue: string): Promise<boolean> {
    const [own] = await Promise.all((await this.physicalNow(queue)).map((name) => this.inner.queueResume(name)));
    return own!;
  }

  /** A queue's pause is its own keys' flag: queuePause sets it on every partition, the queue's own first. */
  queuePausedAt(queues: string[]): Promise<(number | undefined)[]> {
    return this.inner.queuePausedAt(queues);
  }

  /** A limited worker's jobs are pinned to the queue's own keys, where its limit state lives (PartitionRouter). */
  async limitAcquire(params: LimitAcquireParams): Promise<LimitAcquireResult> {
    const result = await this.inner.limitAcquire({ ...params, queue: this.heldIn(params.queue, params.jid) });
    if (result.outcome !== 'granted') this.leasedIn.delete(params.jid);
    return result;
  }

  limitRelease(params: LimitReleaseParams): Promise<LimitReleaseResult> {
    return this.inner.limitRelease(params);
  }

  limitList(params: { queue: string; nowMs: number }): Promise<LimitUsage[]> {
    return this.inner.limitList(params);
  }

  async queueHistory(params: { queue: string; fromMs: number; toMs: number }): Promise<MinuteCounts[]> {
    const all = await Promise.all((await this.physicalNow(params.queue)).map((queue) => this.inner.queueHistory({ ...params, queue })));
    return all[0]!.map((minute, i) => ({ minuteMs: minute.minuteMs, processed: sum(all.map((h) => h[i]!.processed)), failed: sum(all.map((h) => h[i]!.failed)) }));
  }

  /** Progress, outcome records and events live under the queue's own name, whatever partition ran the job. */
  jobProgress(params: { queue: string; jid: string; value: string; nowMs: number }): Promise<void> {
    return this.inner.jobProgress(params);
  }

  jobFinished(params: { queue: string; jid: string; nowMs: number; record?: { value: JobOutcomeRecord; ttlMs: number }; event?: JobEventMessage }): Promise<void> {
    return this.inner.jobFinished(params);
  }

  /** The queue's own keys first (they hold the outcome records), then each partition. */
  async jobLookup(params: { queue: string; jid: string; nowMs: number }): Promise<JobLookup | undefined> {
    for (const queue of await this.physicalNow(params.queue)) {
      const found = await this.inner.jobLookup({ ...params, queue });
      if (found) return found;
    }
    return undefined;
  }

  eventsSubscribe(listener: (event: JobEventMessage) => void): Promise<() => Promise<void>> {
    return this.inner.eventsSubscribe(listener);
  }

  scheduleClaim(params: ScheduleClaimParams): Promise<ScheduleClaim> {
    return this.inner.scheduleClaim(params);
  }

  scheduleRecord(params: { name: string; tickMs: number; jid: string; nowMs: number }): Promise<void> {
    return this.inner.scheduleRecord(params);
  }

  schedulePause(params: { name: string; paused: boolean; nowMs: number }): Promise<void> {
    return this.inner.schedulePause(params);
  }

  scheduleStates(names: string[]): Promise<ScheduleState[]> {
    return this.inner.scheduleStates(names);
  }

  /** A tick goes to its idempotency key's partition, else the queue's own keys (PartitionRouter), with its mark. */
  schedulePush(params: JobPushParams & { schedule: string; tickMs: number }): Promise<JobPushResult | { taken: string }> {
    return this.inner.schedulePush(this.routed(params, true));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function earliest(values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? Math.min(...known) : undefined;
}
