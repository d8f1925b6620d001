import type { Databases } from '../db/databases.js';
import type { JobStore, QueueCounters, QueueSizes } from '../store/job-store.js';

export type QueueReading = { queue: string } & QueueSizes &
  QueueCounters & {
    /** Seconds the oldest ready job has waited since it was due (0 when none waits): queue latency as the store sees it. */
    latencyS: number;
    /** Epoch ms of the pause while the queue is paused, else null. */
    pausedAt: number | null;
  };

export interface HostReading {
  database: string;
  host: string;
  role: 'primary' | 'replica';
  online: boolean;
  lagBytes: number | null;
  lagSeconds: number | null;
  /** The last error, while offline. */
  error: string | null;
  /** Why a replica is offline: connection_error, lagging, left_recovery (promoted) or not_replaying. */
  offlineReason: string | null;
  /** `pg_postmaster_start_time()` of the incarnation last seen: it changes when the replica restarts or is replaced. */
  startedAt: string | null;
}

/** Every known queue, read from the store: shared by every process, so these are cluster-wide numbers. */
export async function readQueues(store: JobStore, nowMs: number): Promise<QueueReading[]> {
  const queues = await store.queueList();
  return Promise.all(queues.map((queue) => readQueue(store, queue, nowMs)));
}

/** A partitioned queue's reading (the sum, as readQueue) with each physical queue's own: `GET /api/queues?partitions=1`. */
export async function readQueuesByPartition(store: JobStore, nowMs: number): Promise<(QueueReading & { partitions?: QueueReading[] })[]> {
  const queues = await store.queueList();
  return Promise.all(
    queues.map(async (queue) => {
      const [total, names] = await Promise.all([readQueue(store, queue, nowMs), store.queuePartitions?.(queue) ?? [queue]]);
      if (names.length === 1 && names[0] === queue) return total;
      return { ...total, partitions: await Promise.all(names.map((name) => readQueue(store, name, nowMs))) };
    }),
  );
}

export async function readQueue(store: JobStore, queue: string, nowMs: number): Promise<QueueReading> {
  const [sizes, counters, head, [pausedAt]] = await Promise.all([store.queueSizes(queue), store.queueCounters(queue), store.jobList({ queue, state: 'ready', offset: 0, limit: 1 }), store.queuePausedAt([queue])]);
  return { queue, ...sizes, ...counters, latencyS: head[0] ? waitedSeconds(head[0].raw, nowMs) : 0, pausedAt: pausedAt ?? null };
}

/** Due time is `at` (scheduled) or `enqueued_at`, in epoch seconds, as the executor measures latency. */
function waitedSeconds(raw: string, nowMs: number): number {
  try {
    const job = JSON.parse(raw) as { at?: unknown; enqueued_at?: unknown; created_at?: unknown };
    const due = [job.at, job.enqueued_at, job.created_at].find((value) => typeof value === 'number') as number | undefined;
    return due === undefined ? 0 : Math.max(0, Math.round((nowMs / 1000 - due) * 1000) / 1000);
  } catch {
    return 0; // an unreadable payload waits for a worker to move it to the dead set; it has no due time
  }
}

/** Primary and replicas of every configured database, as the load balancer's health checks last saw them. */
export function readHosts(databases: Databases | undefined): HostReading[] {
  if (!databases) return [];
  return databases.names.flatMap((database) => {
    const balancer = databases.balancer(database);
    return [balancer.primary, ...balancer.replicas].map((host) => ({
      database,
      host: host.label,
      role: host.role,
      online: host.isOnline,
      lagBytes: host.role === 'replica' && host.lagBytes !== undefined ? Number(host.lagBytes) : null,
      lagSeconds: host.role === 'replica' && host.lagSeconds !== undefined ? Math.round(host.lagSeconds * 1000) / 1000 : null,
      error: host.isOnline || host.lastError === undefined ? null : host.lastError instanceof Error ? host.lastError.message : String(host.lastError),
      offlineReason: host.isOnline ? null : (host.offlineReason ?? null),
      startedAt: host.startedAt ?? null,
    }));
  });
}

/**
 * Load-balancing decisions of settled executions so far, by strategy, summed over queues. Every worker counts
 * them in the store when it settles a job, so any process (a standalone `lagless dashboard` too) sees them all.
 */
export function sumDecisions(counters: readonly Pick<QueueCounters, 'decisions'>[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const { decisions } of counters) for (const [strategy, count] of Object.entries(decisions)) totals[strategy] = (totals[strategy] ?? 0) + count;
  return totals;
}

export async function readDecisionTotals(store: JobStore): Promise<Record<string, number>> {
  return sumDecisions(await Promise.all((await store.queueList()).map((queue) => store.queueCounters(queue))));
}
