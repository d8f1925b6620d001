import { crc32 } from 'node:zlib';
import type { JobPushParams } from '../store/job-store.js';
import { partitionName, partitionOf } from './keys.js';

/**
 * Which physical queue a job goes to, and which physical queues make up a queue (README, Partitioned queues).
 * A queue configured with `partitions: N` (N > 1) is its own keys `{q}` plus N partitions `{q#0}`…`{q#N-1}`:
 * - a deduplicated job goes to the partition of its idempotency key, so its twins meet in one slot and dedup stays
 *   one atomic step;
 * - any other job to the next partition of a turn that takes the queue's masters in turn, then a partition of that
 *   master (`masterOf`; on a single Redis all are one): 8 partitions on 3 masters sit 3/3/2, and a turn over the
 *   partitions alone would give the third master 2/8 of the jobs instead of 1/3. (A resend of a push whose reply was
 *   lost goes to the partition the first attempt chose: the store routes a push once.)
 * - a `pinned` job (a limited worker's: its limit state lives in the queue's own slot, store/limits.ts) and a cron
 *   tick without an idempotency key (its tick mark, `{q}:cron-ticks`, must be one key for every claimer) stay in the
 *   queue's own keys, exactly where an unpartitioned queue keeps them.
 */
export class PartitionRouter {
  /** Turn of each queue's spread (see next); starts anywhere, so processes started together do not move in step. */
  private readonly turns = new Map<string, number>();

  constructor(
    private readonly partitions: Readonly<Record<string, number>> = {},
    /** The master serving a physical queue's slot (Redis Cluster), undefined when unknown or on a single Redis. */
    private readonly masterOf: (physical: string) => string | undefined = () => undefined,
  ) {}

  /** How many partitions a queue is configured with (1: none). */
  count(queue: string): number {
    return this.partitions[queue] ?? 1;
  }

  /** The physical queue of a push (the queue itself unless it is partitioned). */
  route(p: Pick<JobPushParams, 'queue' | 'jid' | 'dedup' | 'pinned'>, cronTick = false): string {
    const n = this.count(p.queue);
    if (n <= 1 || p.pinned) return p.queue;
    if (p.dedup) return partitionName(p.queue, partitionIndex(p.dedup.key, n));
    return cronTick ? p.queue : this.next(p.queue, Array.from({ length: n }, (_, i) => partitionName(p.queue, i)));
  }

  /** Whether the job may go to any partition (route() picks by turn, not by key or pin). */
  spreads(p: Pick<JobPushParams, 'queue' | 'dedup' | 'pinned'>): boolean {
    return this.count(p.queue) > 1 && !p.pinned && !p.dedup;
  }

  /**
   * One of `names` (physical queues of `queue`), taking their masters in turn and each master's names in turn, so
   * every master gets the same share of picks whatever number of names it serves. Also a fetch's first queue.
   */
  next(queue: string, names: readonly string[]): string {
    return this.order(queue, names, 1)[0]!;
  }

  /**
   * All of `names` (or the first `limit`), in an order that starts where next() would and then alternates between
   * masters: a fetch that has to go on past its first partition goes on to another master, not the busiest one.
   */
  order(queue: string, names: readonly string[], limit = names.length): string[] {
    const byMaster = new Map<string, string[]>();
    for (const name of names) {
      const master = this.masterOf(name) ?? '';
      const group = byMaster.get(master);
      if (group) group.push(name);
      else byMaster.set(master, [name]);
    }
    const groups = [...byMaster.values()];
    const turn = this.turns.get(queue) ?? Math.floor(Math.random() * 1024);
    this.turns.set(queue, turn + 1);
    const round = Math.floor(turn / groups.length);
    const ordered: string[] = [];
    for (let i = 0; ordered.length < limit; i++) {
      const group = groups[(turn + i) % groups.length]!;
      const at = Math.floor(i / groups.length);
      if (at < group.length) ordered.push(group[(round + at) % group.length]!);
      else if (at >= Math.max(...groups.map((g) => g.length))) break;
    }
    return ordered;
  }

  /**
   * The physical queues to read for a queue: its own keys, its configured partitions, then any other partition
   * `known` (registered by an earlier write: jobs left there when N was lowered). A physical name is itself alone.
   */
  physical(queue: string, known: readonly string[] = []): string[] {
    if (partitionOf(queue).index !== undefined) return [queue];
    const names = [queue];
    for (let i = 0, n = this.count(queue); n > 1 && i < n; i++) names.push(partitionName(queue, i));
    for (const name of known) if (partitionOf(name).queue === queue && !names.includes(name)) names.push(name);
    return names;
  }
}

/**
 * NEVER CHANGE THIS FUNCTION while queues hold jobs: a deduplicated job must land in the partition where its twins'
 * cookie lives, in every process and release. crc32 of the UTF-8 key, modulo the partition count; pinned by golden
 * vectors in test/unit/partition-router.test.ts. (Changing N moves keys too: see README, Partitioned queues.)
 */
export function partitionIndex(key: string, partitions: number): number {
  return crc32(key) % partitions;
}
