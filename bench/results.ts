import type { BenchContext } from './context.js';
import type { CpuPerJob } from './cpu.js';
import type { Range, Timed } from './measure.js';

export type Better = 'higher' | 'lower';

/** A target on a ratio: `>= 2` for "at least twice", `<= 0.5` for "at most half". */
export interface Target {
  op: '>=' | '<=';
  ratio: number;
}

export const atLeast = (ratio: number): Target => ({ op: '>=', ratio });
export const atMost = (ratio: number): Target => ({ op: '<=', ratio });

/** lagless against BullMQ on one scenario; ratio = lagless / BullMQ. */
export interface Row {
  id: string;
  label: string;
  unit: string;
  better: Better;
  lagless: number;
  bullmq: number;
  target?: Target;
  cpu?: { lagless: CpuPerJob; bullmq: CpuPerJob };
  /** When the figures are medians of several runs: their slowest and fastest (in `unit`). */
  range?: { lagless?: Range; bullmq?: Range };
}

/** One figure of a check; `range` when it is the median of several runs (in the check's unit). */
export interface Measured {
  label: string;
  value: number;
  range?: Range;
}

/** lagless against a reference other than BullMQ (the bare round trip, itself without dedup). */
export interface Check {
  id: string;
  label: string;
  unit: string;
  subject: Measured;
  reference: Measured;
  /** ratio = subject / reference; none for a figure shown for context only. */
  target?: Target;
  cpu?: { subject: CpuPerJob; reference: CpuPerJob };
}

export function ratio(a: number, b: number): number {
  return a / b;
}

export function met(value: number, target: Target): boolean {
  return target.op === '>=' ? value >= target.ratio : value <= target.ratio;
}

/** A throughput row (jobs/s, higher is better) from two timed runs, carrying their CPU per job. */
export function throughputRow(meta: { id: string; label: string; target?: Target }, lagless: Timed, bullmq: Timed): Row {
  return {
    ...meta,
    unit: 'jobs/s',
    better: 'higher',
    lagless: lagless.perSecond,
    bullmq: bullmq.perSecond,
    cpu: { lagless: lagless.cpu, bullmq: bullmq.cpu },
    range: { ...(lagless.range ? { lagless: lagless.range } : {}), ...(bullmq.range ? { bullmq: bullmq.range } : {}) },
  };
}

/** A throughput figure of a check (jobs/s), with its range when it is a median. */
export function throughput(label: string, run: Timed): Measured {
  return { label, value: run.perSecond, ...(run.range ? { range: run.range } : {}) };
}

/** What a scenario adds to the report: rows against BullMQ, and checks against lagless's own references. */
export interface ScenarioResult {
  rows: Row[];
  checks: Check[];
}

/** One entry of `npm run bench`: its `--only` name, a progress title, and the run. */
export interface Scenario {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
