import { describe, expect, it } from 'vitest';
import { partitionName, partitionOf } from '../../src/redis/keys.js';
import { PartitionRouter, partitionIndex } from '../../src/redis/partition-router.js';
import type { DedupPushParams } from '../../src/store/job-store.js';

const dedup = (key: string): DedupPushParams => ({ key, strategy: 'until_executing', idempotent: true, ttlMs: 1000, preserveLatestWal: true, rescheduleOnce: false });

describe('PartitionRouter', () => {
  it('maps an idempotency key to the same partition forever (golden vectors: a change strands cookies)', () => {
    expect(partitionIndex('RefreshWorker:{"userId":1}', 8)).toBe(GOLDEN['RefreshWorker:{"userId":1}']);
    expect(partitionIndex('a', 8)).toBe(GOLDEN.a);
    expect(partitionIndex('job-1', 8)).toBe(GOLDEN['job-1']);
    expect(partitionIndex('a', 3)).toBe(GOLDEN_3.a);
  });

  it('routes twins to one partition, plain jobs by jid, pinned jobs and key-less cron ticks to the queue itself', () => {
    const router = new PartitionRouter({ hot: 8 });
    expect(router.route({ queue: 'hot', jid: 'j1', dedup: dedup('k') })).toBe(router.route({ queue: 'hot', jid: 'j2', dedup: dedup('k') }));
    expect(router.route({ queue: 'hot', jid: 'j1', dedup: dedup('k') })).toBe(partitionName('hot', partitionIndex('k', 8)));
    expect(router.route({ queue: 'hot', jid: 'job-1' })).toBe(`hot#${partitionIndex('job-1', 8)}`);
    expect(router.route({ queue: 'hot', jid: 'j1', pinned: true, dedup: dedup('k') })).toBe('hot');
    expect(router.route({ queue: 'hot', jid: 'j1' }, true)).toBe('hot');
    expect(router.route({ queue: 'cold', jid: 'j1', dedup: dedup('k') })).toBe('cold');
  });

  it('spreads plain jobs evenly', () => {
    const router = new PartitionRouter({ hot: 8 });
    const counts = new Map<string, number>();
    for (let i = 0; i < 8000; i++) {
      const queue = router.route({ queue: 'hot', jid: `${i.toString(36)}x${(i * 7919).toString(16)}` });
      counts.set(queue, (counts.get(queue) ?? 0) + 1);
    }
    expect(counts.size).toBe(8);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('lists the physical queues: the queue, its partitions, then leftovers from the registry', () => {
    const router = new PartitionRouter({ hot: 2 });
    expect(router.physical('hot', ['other#1', 'hot#5', 'hot#1', 'hot'])).toEqual(['hot', 'hot#0', 'hot#1', 'hot#5']);
    expect(router.physical('cold', ['cold#0'])).toEqual(['cold', 'cold#0']);
    expect(router.physical('hot#1')).toEqual(['hot#1']);
    expect(partitionOf('hot#12')).toEqual({ queue: 'hot', index: 12 });
    expect(partitionOf('hot')).toEqual({ queue: 'hot' });
  });
});

/** Computed once with crc32 % N; never edit to make a test pass. */
const GOLDEN: Record<string, number> = { 'RefreshWorker:{"userId":1}': 3, a: 3, 'job-1': 7 };
const GOLDEN_3: Record<string, number> = { a: 0 };
