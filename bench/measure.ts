import { CpuMeter, type CpuPerJob } from './cpu.js';
import type { BenchContext } from './context.js';

/** One timed run: how many jobs, how long, and what CPU each job cost on both sides. */
export interface Timed {
  jobs: number;
  seconds: number;
  perSecond: number;
  cpu: CpuPerJob;
  /** Set on a median of several runs: the slowest and fastest throughput among them. */
  range?: Range;
}

export interface Range {
  min: number;
  max: number;
  runs: number;
}

/** Time `run` (and account its CPU); setup and teardown stay outside. */
export async function timed(ctx: BenchContext, jobs: number, run: () => Promise<void>): Promise<Timed> {
  const meter = await CpuMeter.start(ctx.admin);
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = await meter.stop(jobs);
  return { jobs, seconds, perSecond: jobs / seconds, cpu };
}

/** Reject instead of hanging when a run stops making progress (a broken build must not stall the bench). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves when `count` has been reached through the returned `tick`. */
export function countdown(count: number): { tick: () => void; done: Promise<void> } {
  let left = count;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  if (left <= 0) finish();
  return {
    tick: () => {
      if (--left === 0) finish();
    },
    done,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A run that lost jobs would look fast; refuse to report it. */
export function expectCount(expected: number, actual: number, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${expected} jobs, found ${actual}`);
}
