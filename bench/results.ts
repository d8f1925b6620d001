import type { CpuPerJob } from './cpu.js';
import type { Timed } from './measure.js';

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
}

/** lagless against a reference other than BullMQ (the bare round trip, itself without dedup). */
export interface Check {
  id: string;
  label: string;
  unit: string;
  subject: { label: string; value: number };
  reference: { label: string; value: number };
  /** ratio = subject / reference. */
  target: Target;
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
  return { ...meta, unit: 'jobs/s', better: 'higher', lagless: lagless.perSecond, bullmq: bullmq.perSecond, cpu: { lagless: lagless.cpu, bullmq: bullmq.cpu } };
}
