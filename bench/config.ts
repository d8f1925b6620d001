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

export interface BenchConfig {
  quick: boolean;
  counts: BenchCounts;
  /** Measured runs per side, interleaved; the median is reported with the slowest and fastest beside it. */
  repeats: number;
  /** Process concurrencies of the processing scenario. */
  concurrencies: number[];
  /** Names of the scenarios to run (`--only`), in table order. */
  only: string[];
  /** Set in a scenario's own process (run.ts starts one per scenario): where it writes its result. */
  resultFile?: string;
}

// Memory is measured at 100,000 waiting jobs: at 10,000, BullMQ's capped event stream inflates its per-job figure.
const FULL: BenchCounts = { jobs: 50_000, batch: 1_000, latencySamples: 10_000, memoryJobs: 100_000, warmup: 2_000 };
const QUICK: BenchCounts = { jobs: 5_000, batch: 1_000, latencySamples: 1_000, memoryJobs: 10_000, warmup: 500 };

/** `scenarios`: every scenario name, in table order (the default for `--only`). */
export function parseArgs(argv: string[], scenarios: string[]): BenchConfig {
  const usage = `usage: npm run bench [-- --quick] [-- --only ${scenarios.join(',')}] [-- --repeats N]`;
  const config: BenchConfig = { quick: false, counts: FULL, repeats: 5, concurrencies: [10, 50], only: [...scenarios] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') Object.assign(config, { quick: true, counts: QUICK });
    else if (arg === '--only') config.only = (argv[++i] ?? '').split(',').map((name) => scenarioName(name, scenarios));
    else if (arg === '--repeats') config.repeats = positiveInteger(argv[++i], usage);
    else if (arg === '--result-file') config.resultFile = argv[++i];
    else throw new Error(`Unknown option '${arg}'. ${usage}`);
  }
  return config;
}

function scenarioName(name: string, scenarios: string[]): string {
  if (scenarios.includes(name)) return name;
  throw new Error(`Unknown scenario '${name}' for --only; choose from ${scenarios.join(', ')}.`);
}

function positiveInteger(value: string | undefined, usage: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--repeats needs an integer >= 1; got '${value}'. ${usage}`);
  return n;
}
