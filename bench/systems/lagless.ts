import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createLagless, laglessLogger, PartitionedStore, type LaglessApp, type Worker, type WorkerOptions } from '../../dist/index.js';
import type { BenchContext } from '../context.js';

export const QUEUE = 'bench';

export interface LaglessSetup {
  app: LaglessApp;
  store: PartitionedStore;
  /** Close the app, then the log file if there is one. */
  close(): Promise<void>;
}

export interface LaglessOptions {
  /** A key prefix of an earlier app, to reopen its keys; a fresh one by default. */
  prefix?: string;
  /** lagless's default logger (JSON lines, info level) writing to this file instead of stdout; silent when absent. */
  logFile?: string;
}

/** A lagless app on its own key prefix of the private server: silent, or with its default logging to a file. */
export function laglessApp(ctx: BenchContext, label: string, options: LaglessOptions = {}): LaglessSetup {
  const prefix = options.prefix ?? ctx.prefix(`lagless-${label}`);
  const log = options.logFile ? defaultLoggerTo(options.logFile) : undefined;
  const app = createLagless({ redis: { url: ctx.url, prefix }, logger: log?.logger ?? false });
  if (!(app.store instanceof PartitionedStore)) throw new Error('createLagless({ redis }) did not build a Redis store');
  return {
    app,
    store: app.store,
    close: async () => {
      await app.close();
      log?.close();
    },
  };
}

export interface NoopEnqueuer {
  setup: LaglessSetup;
  worker: Worker<{ n: number }>;
}

/** An app with the no-op worker `NoopWorker` on QUEUE (more worker options, such as dedup, in `options`), connected. */
export async function laglessNoopEnqueuer(ctx: BenchContext, label: string, options: Partial<WorkerOptions<{ n: number }>> = {}): Promise<NoopEnqueuer> {
  const setup = laglessApp(ctx, label);
  const worker = setup.app.defineWorker<{ n: number }>({ name: 'NoopWorker', queue: QUEUE, ...options, perform: () => undefined });
  await setup.app.store.queueSizes(QUEUE); // connect before the clock starts
  return { setup, worker };
}

/** The logger lagless builds when `logger` is left out, pointed at a file (users redirect stdout to one). */
function defaultLoggerTo(file: string): { logger: Logger; close: () => void } {
  const logger = laglessLogger({ destination: file });
  // app.close() has flushed it; close the file too (the logger exposes its destination under pino's symbol).
  const destination = (logger as unknown as Record<symbol, { end(): void }>)[pino.symbols.streamSym]!;
  return { logger, close: () => destination.end() };
}

/** A fresh log file in a directory of its own, and a way to remove it (logs of 50,000 jobs are ~40 MB). */
export function logFile(label: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lagless-bench-${label}-`));
  return { path: join(dir, 'lagless.log'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
