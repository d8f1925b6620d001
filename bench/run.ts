import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { parseArgs } from './config.js';
import { BenchContext } from './context.js';
import { infoSection } from './redis-info.js';
import { printReport, writeReport, type RunInfo } from './report.js';
import type { Check, Row, Scenario } from './results.js';
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

/** `npm run bench [-- --quick]`: markdown tables on stdout and in bench/results/. Progress goes to stderr. */
async function main(): Promise<void> {
  const config = parseArgs(process.argv.slice(2), SCENARIOS.map((s) => s.name));
  const startedAt = new Date();
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  const ctx = await BenchContext.start(config);
  const rows: Row[] = [];
  const checks: Check[] = [];
  try {
    for (const scenario of SCENARIOS) {
      if (!config.only.includes(scenario.name)) continue;
      console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${scenario.title}`);
      const result = await scenario.run(ctx);
      rows.push(...result.rows);
      checks.push(...result.checks);
    }
    const info: RunInfo = {
      startedAt: startedAt.toISOString(),
      seconds: (performance.now() - started) / 1000,
      quick: config.quick,
      repeats: config.repeats,
      counts: { ...config.counts },
      versions: await versions(ctx),
      cpus: cpus().length,
      machine: machine(),
      loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0]! },
    };
    writeReport(info, rows, checks);
    printReport(info, rows, checks);
  } finally {
    await ctx.close();
  }
}

async function versions(ctx: BenchContext): Promise<Record<string, string>> {
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
  // The private servers are stopped (main's finally); an app the failed scenario left open would keep us alive.
  process.exit(1);
});
