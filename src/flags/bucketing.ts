import { crc32 } from 'node:zlib';

/**
 * Percentage-of-actors bucketing.
 *
 * NEVER CHANGE THIS FUNCTION (hash, input string, modulus or scaling). Every rollout in every environment
 * depends on an actor landing in the same bucket forever: changing it silently flips users on and off
 * mid-rollout. It is pinned by golden vectors in test/unit/flags-bucketing.test.ts; if those fail, the
 * change is wrong, not the vectors.
 *
 * - crc32 over the UTF-8 bytes of `flagName + flipperId` (Flipper's scheme): flags bucket independently.
 * - 100,000 buckets = percent with three decimals.
 * - An actor is in when `bucket < pct * 1000`, so raising the percentage only ever adds actors (monotonic).
 */
export const BUCKETS = 100_000;
const SCALE = 1000;

export function actorBucket(flagName: string, flipperId: string): number {
  return crc32(flagName + flipperId) % BUCKETS;
}

/**
 * `pct` is validated to at most three decimals on write; rounding pct * 1000 removes float noise
 * (12.345 * 1000 = 12345.000000000002) so the threshold is exactly the stored integer number of buckets.
 */
export function percentageThreshold(pct: number): number {
  return Math.round(pct * SCALE);
}

export function inPercentageOfActors(flagName: string, flipperId: string, pct: number): boolean {
  return actorBucket(flagName, flipperId) < percentageThreshold(pct);
}
