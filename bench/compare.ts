import type { BenchContext } from './context.js';
import type { Timed } from './measure.js';

/** One side of a comparison: runs `count` jobs on fresh keys, timed, and cleans up after itself. */
export type Run = (count: number) => Promise<Timed>;

/**
 * Warm every side once, then `repeats` rounds in which every side runs once (the order rotating each round, so
 * every side meets the same background load), and report each side's median run with the slowest and fastest
 * beside it. The median, not the best: the best run flatters whichever side happened to meet a quiet moment.
 */
export async function interleaved<K extends string>(ctx: BenchContext, runs: Record<K, Run>, count: number = ctx.config.counts.jobs): Promise<Record<K, Timed>> {
  const names = Object.keys(runs) as K[];
  for (const name of names) {
    await ctx.reset();
    await runs[name](ctx.config.counts.warmup);
  }
  const all = Object.fromEntries(names.map((name) => [name, [] as Timed[]])) as Record<K, Timed[]>;
  for (let round = 0; round < ctx.config.repeats; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!;
      await ctx.reset();
      all[name].push(await runs[name](count));
    }
  }
  return Object.fromEntries(names.map((name) => [name, medianRun(all[name])])) as Record<K, Timed>;
}

/** The median of each figure (throughput and each CPU component on its own), with the throughput range. */
export function medianRun(runs: Timed[]): Timed {
  if (runs.length === 0) throw new Error('medianRun needs at least one run');
  const perSecond = runs.map((r) => r.perSecond);
  const median = medianOf(perSecond);
  return {
    jobs: runs[0]!.jobs,
    seconds: runs[0]!.jobs / median,
    perSecond: median,
    cpu: { nodeUs: medianOf(runs.map((r) => r.cpu.nodeUs)), redisUs: medianOf(runs.map((r) => r.cpu.redisUs)) },
    range: { min: Math.min(...perSecond), max: Math.max(...perSecond), runs: runs.length },
  };
}

/** The middle value; for an even count, the mean of the two middle values. */
export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
