import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { parseArgs, type ScenarioName } from './config.js';
import { BenchContext } from './context.js';
import { infoSection } from './redis-info.js';
import { printReport, writeReport, type RunInfo } from './report.js';
import type { Check, Row } from './results.js';
import { dedupScenarios } from './scenarios/dedup.js';
import { enqueueScenarios } from './scenarios/enqueue.js';
import { latencyScenario } from './scenarios/latency.js';
import { liveLoadBalancingScenario } from './scenarios/live-load-balancing.js';
import { loadBalancingScenario } from './scenarios/load-balancing.js';
import { memoryScenario } from './scenarios/memory.js';
import { multiQueueScenario } from './scenarios/multi-queue.js';
import { processScenarios } from './scenarios/process.js';

type Scenario = (ctx: BenchContext) => Promise<{ rows: Row[]; checks: Check[] }>;

/** In table order. Each scenario runs lagless and BullMQ against the same private redis-server. */
const SCENARIOS: Record<ScenarioName, { title: string; run: Scenario }> = {
  enqueue: {
    title: 'enqueue: sequential (with the bare round-trip floor) and bulk',
    run: async (ctx) => {
      const { rows, floor } = await enqueueScenarios(ctx);
      return { rows, checks: [floor] };
    },
  },
  process: { title: 'process: pre-filled no-op jobs', run: async (ctx) => ({ rows: await processScenarios(ctx), checks: [] }) },
  latency: { title: 'enqueue-to-start latency', run: async (ctx) => ({ rows: await latencyScenario(ctx), checks: [] }) },
  memory: { title: 'memory per waiting job', run: async (ctx) => ({ rows: [await memoryScenario(ctx)], checks: [] }) },
  dedup: {
    title: 'dedup: same args and distinct args',
    run: async (ctx) => {
      const { rows, overhead } = await dedupScenarios(ctx);
      return { rows, checks: [overhead] };
    },
  },
  'load-balancing': { title: 'load balancing: sticky vs always against a primary + replica', run: async (ctx) => ({ rows: [], checks: await loadBalancingScenario(ctx) }) },
  'multi-queue': { title: 'multi-queue fetch: a worker on 50 queues, one busy', run: (ctx) => multiQueueScenario(ctx) },
  'live-load-balancing': { title: 'load balancing, live: write → enqueue → run at 200, 1,000 and 5,000 jobs/s', run: async (ctx) => ({ rows: [], checks: await liveLoadBalancingScenario(ctx) }) },
};

/** `npm run bench [-- --quick]`: a table on stdout and bench/results/latest.json. Progress goes to stderr. */
async function main(): Promise<void> {
  const config = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  const ctx = await BenchContext.start(config);
  const rows: Row[] = [];
  const checks: Check[] = [];
  try {
    for (const [name, scenario] of Object.entries(SCENARIOS) as [ScenarioName, (typeof SCENARIOS)[ScenarioName]][]) {
      if (!config.only.includes(name)) continue;
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

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
