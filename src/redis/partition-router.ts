import { crc32 } from 'node:zlib';
import type { JobPushParams } from '../store/job-store.js';
import { partitionName, partitionOf } from './keys.js';

/**
 * Which physical queue a job goes to, and which physical queues make up a queue (README, Partitioned queues).
 * A queue configured with `partitions: N` (N > 1) is its own keys `{q}` plus N partitions `{q#0}`…`{q#N-1}`:
 * - a deduplicated job goes to the partition of its idempotency key, so its twins meet in one slot and dedup stays
 *   one atomic step;
 * - any other job to the partition of its jid: as even as a random pick, and the same on a resend (a push whose reply
 *   was lost is checked for, and pushed again, in the partition it went to);
 * - a `pinned` job (a limited worker's: its limit state lives in the queue's own slot, store/limits.ts) and a cron
 *   tick without an idempotency key (its tick mark, `{q}:cron-ticks`, must be one key for every claimer) stay in the
 *   queue's own keys, exactly where an unpartitioned queue keeps them.
 */
export class PartitionRouter {
  constructor(private readonly partitions: Readonly<Record<string, number>> = {}) {}

  /** How many partitions a queue is configured with (1: none). */
  count(queue: string): number {
    return this.partitions[queue] ?? 1;
  }

  /** The physical queue of a push (the queue itself unless it is partitioned). */
  route(p: Pick<JobPushParams, 'queue' | 'jid' | 'dedup' | 'pinned'>, cronTick = false): string {
    const n = this.count(p.queue);
    if (n <= 1 || p.pinned) return p.queue;
    if (p.dedup) return partitionName(p.queue, partitionIndex(p.dedup.key, n));
    return cronTick ? p.queue : partitionName(p.queue, partitionIndex(p.jid, n));
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
