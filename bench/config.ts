/** Job counts of one run. `--quick` divides them by 10 so a full pass stays well under a minute. */
export interface BenchCounts {
  /** Sequential and bulk enqueue, processing, dedup, bare round trips: jobs (calls) per measured run. */
  jobs: number;
  /** Jobs per bulk call (enqueueMany / addBulk); the same in quick mode. */
  batch: number;
  /** Enqueue-to-start latency samples per system. */
  latencySamples: number;
  /** Waiting jobs whose Redis memory is measured. */
  memoryJobs: number;
  /** Jobs of the untimed run before the measured ones, so every side is measured with a warm JIT and scripts. */
  warmup: number;
}

export const SCENARIOS = ['enqueue', 'process', 'latency', 'memory', 'dedup', 'load-balancing', 'live-load-balancing', 'multi-queue'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchConfig {
  quick: boolean;
  counts: BenchCounts;
  /** Measured runs per side; the best is reported, since other load on the machine only ever slows a run down. */
  repeats: number;
  /** Process concurrencies of the processing scenario. */
  concurrencies: number[];
  only: ScenarioName[];
}

const FULL: BenchCounts = { jobs: 50_000, batch: 1_000, latencySamples: 1_000, memoryJobs: 10_000, warmup: 2_000 };
const QUICK: BenchCounts = { jobs: 5_000, batch: 1_000, latencySamples: 100, memoryJobs: 1_000, warmup: 500 };

const USAGE = 'usage: npm run bench [-- --quick] [-- --only enqueue,process,latency,memory,dedup,load-balancing,live-load-balancing,multi-queue] [-- --repeats N]';

export function parseArgs(argv: string[]): BenchConfig {
  const config: BenchConfig = { quick: false, counts: FULL, repeats: 5, concurrencies: [10, 50], only: [...SCENARIOS] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') Object.assign(config, { quick: true, counts: QUICK });
    else if (arg === '--only') config.only = (argv[++i] ?? '').split(',').map((name) => scenarioName(name));
    else if (arg === '--repeats') config.repeats = positiveInteger(argv[++i]);
    else throw new Error(`Unknown option '${arg}'. ${USAGE}`);
  }
  return config;
}

function scenarioName(name: string): ScenarioName {
  if ((SCENARIOS as readonly string[]).includes(name)) return name as ScenarioName;
  throw new Error(`Unknown scenario '${name}' for --only; choose from ${SCENARIOS.join(', ')}.`);
}

function positiveInteger(value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--repeats needs an integer >= 1; got '${value}'. ${USAGE}`);
  return n;
}
