import type { BenchContext } from './context.js';
import type { Timed } from './measure.js';

/** One side of a comparison: runs `count` jobs on fresh keys, timed, and cleans up after itself. */
export type Run = (count: number) => Promise<Timed>;

/**
 * Warm every side once, then `repeats` rounds in which every side runs once (the order rotating each round), and
 * keep each side's fastest run: on a shared machine other load only ever slows a run down, and interleaving
 * exposes every side to the same background. The CPU per job reported is that of the kept run.
 */
export async function bestOf<K extends string>(ctx: BenchContext, runs: Record<K, Run>, count: number = ctx.config.counts.jobs): Promise<Record<K, Timed>> {
  const names = Object.keys(runs) as K[];
  for (const name of names) {
    await ctx.reset();
    await runs[name](ctx.config.counts.warmup);
  }
  const best = {} as Record<K, Timed>;
  for (let round = 0; round < ctx.config.repeats; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!;
      await ctx.reset();
      const result = await runs[name](count);
      if (!best[name] || result.perSecond > best[name].perSecond) best[name] = result;
    }
  }
  return best;
}
