import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { LaglessApp } from '../app.js';
import type { QueueSpec } from '../server/queue-order.js';
import { withAppModule } from './app-options.js';
import { explainListenError } from './cli-error.js';
import { loadApp, parseWholeNumber } from './load-app.js';

/** `critical=5` → ['critical', 5]; a bare name stays a name (QueueOrder checks both). */
function queueSpec(item: string): QueueSpec {
  const [name, weight] = item.split('=');
  return weight === undefined ? name! : [name!, parseWholeNumber(weight, `--queues weight of '${name}'`)];
}

export function registerWorker(program: Command): void {
  withAppModule(program.command('worker').description('run a worker pool until SIGTERM/SIGINT'))
    .option('--queues <names>', 'comma-separated queues, name=weight for weighted priority, e.g. critical=5,default=2,low (default: every queue your workers use)')
    .option('--strict', 'take the queues strictly in the order given')
    .option('--concurrency <n>', 'jobs run at once', '10')
    .option('--prefetch <n>', 'jobs fetched ahead and held for the next free slot (default: twice the concurrency; 0 for long jobs)')
    .option('--timeout <ms>', 'on shutdown, how long jobs may finish before they are handed back', '25000')
    .option('--unknown-worker-retry-ms <ms>', 'how long jobs of workers the app does not define (a rolling deploy) are retried before the dead set', '3600000')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port')
    .action(async (options: { app?: string; queues?: string; strict?: boolean; concurrency: string; prefetch?: string; timeout: string; unknownWorkerRetryMs: string; metricsPort?: string }) => {
      const app = await loadApp(options, { needsWorkers: true });
      const queues = options.queues?.split(',').filter(Boolean).map(queueSpec) ?? [...new Set(app.workers().map((w) => w.queue))];
      const concurrency = parseWholeNumber(options.concurrency, '--concurrency');
      const prefetch = options.prefetch === undefined ? undefined : parseWholeNumber(options.prefetch, '--prefetch', 0);
      const unknownWorkerRetryMs = parseWholeNumber(options.unknownWorkerRetryMs, '--unknown-worker-retry-ms', 0);
      const worker = app.worker({ queues, strict: options.strict, concurrency, prefetch, unknownWorkerRetryMs });
      const timeoutMs = parseWholeNumber(options.timeout, '--timeout');
      const metrics = options.metricsPort === undefined ? undefined : await serveMetrics(app, parseWholeNumber(options.metricsPort, '--metrics-port'));
      await worker.start();
      await stopOnSignal(app.logger, timeoutMs);
      await worker.stop({ timeoutMs });
      metrics?.close();
      // Exit even while a job that ignores ctx.signal is still running: stop() handed it back to the queue, and
      // another process may already run it. A store that cannot be closed cleanly must not hold the exit either.
      await Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
      process.exit(0);
    });
}

const CLOSE_GRACE_MS = 2000;

/** Prometheus /metrics on every interface, as scrapers expect; a port in use is one line, not a crash. */
function serveMetrics(app: LaglessApp, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end('not found; try /metrics\n');
    void app.metrics.metrics().then((text) => res.writeHead(200, { 'content-type': app.metrics.contentType }).end(text));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(explainListenError(error, '--metrics-port', port, '0.0.0.0')));
    server.listen(port, () => resolve(server));
  });
}

/** Resolves at the first SIGTERM or SIGINT; logs every signal, so operators see that it was received. */
function stopOnSignal(logger: Logger, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        received++;
        if (received === 1) logger.info({ signal, timeout_ms: timeoutMs }, `received ${signal}: stopping; running jobs have ${timeoutMs} ms to finish, then they are handed back and the process exits`);
        else logger.warn({ signal }, `received ${signal} again: already stopping; the process exits at the shutdown timeout`);
        resolve();
      });
    }
  });
}
