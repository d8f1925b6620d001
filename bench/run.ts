import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type BenchConfig } from './config.js';
import { BenchContext } from './context.js';
import { infoSection } from './redis-info.js';
import { printReport, writeReport, type RunInfo } from './report.js';
import type { Check, Row, Scenario, ScenarioResult } from './results.js';
import { clusterScenario } from './scenarios/cluster.js';
import { dedupScenario } from './scenarios/dedup.js';
import { dueDrainScenario } from './scenarios/due-drain.js';
import { enqueueScenario } from './scenarios/enqueue.js';
import { latencyScenario } from './scenarios/latency.js';
import { limitsScenario } from './scenarios/limits.js';
import { liveLoadBalancingScenario } from './scenarios/live-load-balancing.js';
import { loadBalancingScenario } from './scenarios/load-balancing.js';
import { memoryScenario } from './scenarios/memory.js';
import { multiQueueScenario } from './scenarios/multi-queue.js';
import { partitionsScenario } from './scenarios/partitions.js';
import { processScenario } from './scenarios/process.js';
import { twoWorkersScenario } from './scenarios/two-workers.js';

/**
 * Every scenario of `npm run bench`, in table order; `--only` takes their names. A new scenario is one file in
 * scenarios/ exporting a `Scenario`, and one line here.
 */
const SCENARIOS: Scenario[] = [
  enqueueScenario,
  processScenario,
  twoWorkersScenario,
  latencyScenario,
  memoryScenario,
  dedupScenario,
  loadBalancingScenario,
  liveLoadBalancingScenario,
  multiQueueScenario,
  limitsScenario,
  dueDrainScenario,
  clusterScenario,
  partitionsScenario,
];

/**
 * `npm run bench [-- --quick]`: markdown tables on stdout and in bench/results/. Progress goes to stderr.
 * Each scenario runs in a process of its own, on a fresh private redis-server: what one scenario leaves behind in
 * a process (an enabled AsyncLocalStorage, a grown heap, timers of closed clients) must not slow the next one.
 * Measured in one process, the processing rows ran 25 % slower after the enqueue rows than alone.
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const config = parseArgs(argv, SCENARIOS.map((s) => s.name));
  if (config.resultFile) return runHere(config, config.resultFile);
  const startedAt = new Date();
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  const rows: Row[] = [];
  const checks: Check[] = [];
  let versions: Record<string, string> = {};
  const dir = mkdtempSync(join(tmpdir(), 'lagless-bench-'));
  try {
    for (const scenario of SCENARIOS) {
      if (!config.only.includes(scenario.name)) continue;
      console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${scenario.title}`);
      const result = await runInChild(argv, scenario.name, join(dir, `${scenario.name}.json`));
      rows.push(...result.rows);
      checks.push(...result.checks);
      versions = result.versions;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const info: RunInfo = {
    startedAt: startedAt.toISOString(),
    seconds: (performance.now() - started) / 1000,
    quick: config.quick,
    repeats: config.repeats,
    counts: { ...config.counts },
    versions,
    cpus: cpus().length,
    machine: machine(),
    loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0]! },
  };
  writeReport(info, rows, checks);
  printReport(info, rows, checks);
}

interface ChildResult extends ScenarioResult {
  versions: Record<string, string>;
}

/** This process is one scenario's own (`--only` names it): run it on a fresh private server, write its result to `file`. */
async function runHere(config: BenchConfig, file: string): Promise<void> {
  const scenario = SCENARIOS.find((s) => s.name === config.only[0])!;
  const ctx = await BenchContext.start(config);
  try {
    const result: ChildResult = { ...(await scenario.run(ctx)), versions: await versionsOf(ctx) };
    writeFileSync(file, JSON.stringify(result));
  } finally {
    await ctx.close();
  }
}

/** Run one scenario in a new process of this same command (same Node flags, same loader), and read its result. */
function runInChild(argv: string[], name: string, file: string): Promise<ChildResult> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv, '--only', name, '--result-file', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(readFileSync(file, 'utf8')) as ChildResult);
      else reject(new Error(`scenario '${name}' failed (exit ${code ?? signal}); its error is printed above`));
    });
  });
}

async function versionsOf(ctx: BenchContext): Promise<Record<string, string>> {
  const require = createRequire(import.meta.url);
  const version = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;
  const server = await infoSection(ctx.admin, 'server');
  return { node: process.versions.node, redis: server.get('redis_version') ?? '?', bullmq: version('bullmq'), ioredis: version('ioredis') };
}

function machine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${type()} ${release()}`;
}

main().catch((error: unknown) => {
  console.error(error);
  // The private servers are stopped (runHere's finally); an app the failed scenario left open would keep us alive.
  process.exit(1);
});
