import { describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { actorBucket, inPercentageOfActors } from '../../src/flags/bucketing.js';

// Golden vectors: computed once and frozen. If a change to bucketing.ts breaks these, revert the change —
// every running rollout depends on actors keeping their bucket.
const GOLDEN: ReadonlyArray<[flag: string, actor: string, crc: number, bucket: number]> = [
  ['my_flag', 'User:1', 3980123387, 23387],
  ['my_flag', 'User:42', 1293965824, 65824],
  ['my_flag', 'Project:7', 37066841, 66841],
  ['preserve_latest_wal_locations_for_idempotent_jobs', 'User:1', 2936623699, 23699],
  ['search', 'Group:3', 4092647378, 47378],
  ['flag_ü', 'User:ü', 3568987832, 87832],
];

describe('percentage-of-actors bucketing', () => {
  it('uses standard CRC-32 (IEEE) over UTF-8', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it.each(GOLDEN)('%s + %s is frozen', (flag, actor, crc, bucket) => {
    expect(crc32(flag + actor)).toBe(crc);
    expect(actorBucket(flag, actor)).toBe(bucket);
  });

  it('is exact at the three-decimal threshold', () => {
    // my_flag + User:1 sits in bucket 23387: on at 23.388 %, off at 23.387 %.
    expect(inPercentageOfActors('my_flag', 'User:1', 23.388)).toBe(true);
    expect(inPercentageOfActors('my_flag', 'User:1', 23.387)).toBe(false);
    expect(inPercentageOfActors('my_flag', 'User:1', 0)).toBe(false);
    expect(inPercentageOfActors('my_flag', 'User:1', 100)).toBe(true);
  });

  const actors = Array.from({ length: 100_000 }, (_, i) => `User:${i + 1}`);

  it('puts 25 % of 100,000 actors in, within ±0.5 %', () => {
    const share = actors.filter((a) => inPercentageOfActors('rollout_a', a, 25)).length / actors.length;
    expect(Math.abs(share - 0.25)).toBeLessThanOrEqual(0.005);
  });

  it('never turns an actor off when the percentage rises', () => {
    const steps = [0.5, 1, 5, 10, 25, 33.333, 50, 99.999, 100];
    for (const actor of actors.slice(0, 20_000)) {
      let wasOn = false;
      for (const pct of steps) {
        const on = inPercentageOfActors('rollout_a', actor, pct);
        if (wasOn) expect(on).toBe(true);
        wasOn = on;
      }
    }
  });

  it('buckets flags independently: two flags at 50 % overlap on about 25 %', () => {
    const both = actors.filter((a) => inPercentageOfActors('rollout_a', a, 50) && inPercentageOfActors('rollout_b', a, 50)).length;
    expect(Math.abs(both / actors.length - 0.25)).toBeLessThanOrEqual(0.01);
  });
});
