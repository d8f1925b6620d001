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
    expect(router.route({ queue: 'hot', jid: 'j1', pinned: true, dedup: dedup('k') })).toBe('hot');
    expect(router.route({ queue: 'hot', jid: 'j1' }, true)).toBe('hot');
    expect(router.route({ queue: 'cold', jid: 'j1', dedup: dedup('k') })).toBe('cold');
  });

  it('spreads plain jobs evenly over the partitions, and over masters that serve unequal numbers of them', () => {
    const count = (router: PartitionRouter, by: (queue: string) => string): Map<string, number> => {
      const counts = new Map<string, number>();
      for (let i = 0; i < 2400; i++) {
        const key = by(router.route({ queue: 'hot', jid: `j${i}` }));
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    };
    expect([...count(new PartitionRouter({ hot: 8 }), (q) => q).values()]).toEqual(new Array(8).fill(300));
    const master = (q: string): string => ({ 'hot#0': 'A', 'hot#1': 'A', 'hot#2': 'A', 'hot#3': 'B', 'hot#4': 'B', 'hot#5': 'B' })[q] ?? 'C';
    expect([...count(new PartitionRouter({ hot: 8 }, master), master).values()]).toEqual([800, 800, 800]);
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

describe('PartitionRouter.order', () => {
  it('lists every physical queue once, starting on each master in turn and alternating masters', () => {
    const master = (q: string): string => ({ a0: 'A', a1: 'A', a2: 'A', a3: 'A', b0: 'B', b1: 'B', c0: 'C', c1: 'C' })[q]!;
    const router = new PartitionRouter({}, master);
    const names = ['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'c0', 'c1'];
    const firsts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const order = router.order('q', names);
      expect([...order].sort()).toEqual(names);
      expect(new Set(order.slice(0, 3).map(master)).size).toBe(3);
      firsts.set(master(order[0]!), (firsts.get(master(order[0]!)) ?? 0) + 1);
    }
    expect([...firsts.values()]).toEqual([100, 100, 100]);
  });
});
