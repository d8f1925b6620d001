import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './measure.js';
import type { FromWorker, ToWorker, WorkerProcessOptions } from './systems/worker-process-protocol.js';

const ENTRY = fileURLToPath(new URL('./systems/worker-process.ts', import.meta.url));
export type WorkerReport = Extract<FromWorker, { type: 'report' }>;

/** The parent's handle on one worker in a process of its own (bench/systems/worker-process.ts). */
export class WorkerProcess {
  private constructor(private readonly child: ChildProcess) {}

  /** Fork the worker and wait until it is ready to start. */
  static async spawn(options: WorkerProcessOptions): Promise<WorkerProcess> {
    const child = fork(ENTRY, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker = new WorkerProcess(child);
    await worker.next('ready');
    return worker;
  }

  /** Start processing; resolves once the worker has started (its CPU is counted from the `start`). */
  async start(): Promise<void> {
    const started = this.next('started');
    this.send({ type: 'start' });
    await started;
  }

  async report(): Promise<WorkerReport> {
    const report = this.next('report');
    this.send({ type: 'report' });
    return (await report) as WorkerReport;
  }

  /** Stop gracefully and wait for the process to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'exit' });
    await within(exited, 30_000, 'a worker process exit').catch((error: unknown) => {
      this.child.kill('SIGKILL');
      throw error;
    });
  }

  private send(message: ToWorker): void {
    this.child.send(message);
  }

  private next(type: FromWorker['type']): Promise<FromWorker> {
    return within(
      new Promise<FromWorker>((resolve, reject) => {
        const onMessage = (message: FromWorker): void => {
          if (message.type !== type) return;
          this.child.off('message', onMessage);
          this.child.off('exit', onExit);
          resolve(message);
        };
        const onExit = (code: number | null): void => reject(new Error(`worker process exited (code ${code}) while the bench waited for '${type}'`));
        this.child.on('message', onMessage);
        this.child.once('exit', onExit);
      }),
      60_000,
      `worker process '${type}'`,
    );
  }
}
