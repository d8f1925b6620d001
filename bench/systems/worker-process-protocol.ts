/** What a forked worker process is told on its command line. */
export interface WorkerProcessOptions {
  system: 'lagless' | 'bullmq';
  port: number;
  prefix: string;
  concurrency: number;
}

/** start: start processing (CPU is counted from here); report: send counts; exit: stop gracefully and exit. */
export type ToWorker = { type: 'start' } | { type: 'report' } | { type: 'exit' };

/**
 * ready: connected-to-be and waiting for `start`; report: jobs performed since start, the latencies (ms) of the
 * stamped jobs since the last report, and CPU (user + system, µs) since start.
 */
export type FromWorker = { type: 'ready' } | { type: 'started' } | { type: 'report'; performed: number; latenciesMs: number[]; cpuUs: number };
