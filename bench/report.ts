import { mkdirSync, writeFileSync } from 'node:fs';
import type { CpuPerJob } from './cpu.js';
import type { Range } from './measure.js';
import { met, ratio, type Check, type Measured, type Row, type Target } from './results.js';

export interface RunInfo {
  startedAt: string;
  seconds: number;
  quick: boolean;
  repeats: number;
  counts: Record<string, number>;
  versions: Record<string, string>;
  cpus: number;
  /** CPU model, memory and OS, so a table pasted elsewhere says what it was measured on. */
  machine: string;
  /** 1-minute load average: other processes compete for the same CPUs and slow runs down. */
  loadAverage: { atStart: number; atEnd: number };
}

const RESULTS_DIR = new URL('./results/', import.meta.url);

/**
 * Markdown on stdout and in bench/results/latest.md, so a full run pastes into the README (or an issue) as is:
 * the machine and date first, then the tables.
 */
export function printReport(info: RunInfo, rows: Row[], checks: Check[]): void {
  const text = renderReport(info, rows, checks);
  writeFileSync(new URL('latest.md', RESULTS_DIR), `${text}\n`);
  console.log(text);
}

export function renderReport(info: RunInfo, rows: Row[], checks: Check[]): string {
  const lines: string[] = [];
  lines.push(`Measured ${info.startedAt.slice(0, 10)} on ${info.machine} (${info.cpus} CPUs).`);
  lines.push(`lagless vs BullMQ ${info.versions.bullmq} on redis-server ${info.versions.redis}, Node ${info.versions.node}${info.quick ? ' (--quick: 1/10 of the job counts)' : ''}.`);
  lines.push(`Each figure is the median of ${info.repeats} interleaved runs per side, (slowest–fastest) beside it; load average (1 min) ${info.loadAverage.atStart.toFixed(2)} at start, ${info.loadAverage.atEnd.toFixed(2)} at end.`);
  lines.push('ratio = lagless / BullMQ (of the medians); "better" says which direction wins; a target is on the ratio.');
  lines.push('');
  lines.push(...table(
    ['scenario', 'unit', 'better', 'lagless', 'BullMQ', 'lagless/BullMQ', 'target', 'met?'],
    rows.map((r) => {
      const value = ratio(r.lagless, r.bullmq);
      return [r.label, r.unit, r.better, spread(r.lagless, r.range?.lagless, r.unit), spread(r.bullmq, r.range?.bullmq, r.unit), times(value), targetText(r.target), r.target ? yesNo(met(value, r.target)) : '—'];
    }),
  ));
  lines.push('');
  lines.push('CPU per job (µs): Node = this process (process.cpuUsage), Redis = redis-server (INFO cpu used_cpu_sys + used_cpu_user)');
  lines.push('');
  lines.push(...table(
    ['scenario', 'lagless Node', 'lagless Redis', 'lagless total', 'BullMQ Node', 'BullMQ Redis', 'BullMQ total'],
    rows.filter((r) => r.cpu).map((r) => {
      const { lagless: l, bullmq: b } = r.cpu!;
      return [r.label, us(l.nodeUs), us(l.redisUs), us(l.nodeUs + l.redisUs), us(b.nodeUs), us(b.redisUs), us(b.nodeUs + b.redisUs)];
    }),
  ));
  if (checks.length > 0) lines.push('', 'lagless against its own floors', '');
  if (checks.length > 0) lines.push(...table(
    ['check', 'lagless', 'reference', 'ratio', 'target', 'met?', 'CPU µs/job Node+Redis: lagless', 'reference'],
    checks.map((c) => {
      const value = ratio(c.subject.value, c.reference.value);
      const cpu = (x: CpuPerJob | undefined): string => (x ? `${us(x.nodeUs)} + ${us(x.redisUs)}` : '—');
      return [
        c.label,
        measured(c.subject, c.unit),
        measured(c.reference, c.unit),
        times(value),
        targetText(c.target),
        c.target ? yesNo(met(value, c.target)) : '—',
        cpu(c.cpu?.subject),
        cpu(c.cpu?.reference),
      ];
    }),
  ));
  lines.push('');
  lines.push(`total ${info.seconds.toFixed(0)} s; results in bench/results/latest.json and latest.md`);
  return lines.join('\n');
}

export function writeReport(info: RunInfo, rows: Row[], checks: Check[]): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = {
    ...info,
    rows: rows.map((r) => ({ ...r, ratio: ratio(r.lagless, r.bullmq), met: r.target ? met(ratio(r.lagless, r.bullmq), r.target) : null })),
    checks: checks.map((c) => ({ ...c, ratio: ratio(c.subject.value, c.reference.value), met: c.target ? met(ratio(c.subject.value, c.reference.value), c.target) : null })),
  };
  writeFileSync(new URL('latest.json', RESULTS_DIR), `${JSON.stringify(json, null, 2)}\n`);
}

function table(header: string[], body: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)];
}

/** `median (min–max)` when the figure is a median of several runs. */
function spread(value: number, range: Range | undefined, unit: string): string {
  return range && range.runs > 1 ? `${num(value, unit)} (${num(range.min, unit)}–${num(range.max, unit)})` : num(value, unit);
}

const measured = (m: Measured, unit: string): string => `${m.label}: ${spread(m.value, m.range, unit)}`;

function num(value: number, unit: string): string {
  if (unit === 'jobs/s') return Math.round(value).toLocaleString('en-US');
  if (unit === 'ms') return value.toFixed(value < 10 ? 2 : 1);
  return value.toFixed(1);
}

const us = (value: number): string => value.toFixed(1);
const times = (value: number): string => `${value.toFixed(2)}×`;
const yesNo = (ok: boolean): string => (ok ? 'yes' : 'NO');
const targetText = (target: Target | undefined): string => (target ? `${target.op === '>=' ? '≥' : '≤'} ${target.ratio}×` : '—');
