import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { PostgresToolchain } from './postgres-binaries.js';

/** One postgres server process on a data directory; start/stop can be repeated (fault tests). */
export interface PostgresServer {
  readonly port: number;
  readonly dataDir: string;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): clients are disconnected, the data directory stays consistent for a restart. */
  stop(): Promise<void>;
  /** Synchronous last resort for process exit hooks. */
  killNow(): void;
  readonly running: boolean;
}

const READY = /database system is ready to accept (read-only )?connections/;

export function postgresServer(toolchain: PostgresToolchain, dataDir: string, port: number): PostgresServer {
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) return;
    // Only TCP on loopback: no unix socket directory to own or clean up.
    const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
    const proc = spawn(join(toolchain.binDir, 'postgres'), args, {
      env: toolchain.env,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(toolchain.runAs ? { uid: toolchain.runAs.uid, gid: toolchain.runAs.gid } : {}),
    });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => fail(new Error(`postgres on port ${port} not ready after 30 s: ${log.slice(-1000)}`)), 30_000);
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        if (READY.test(log)) done();
      };
      const onExit = (code: number | null): void => fail(new Error(`postgres on port ${port} exited (${code}) during startup: ${log.slice(-1000)}`));
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.stderr?.off('data', onData);
        proc.off('exit', onExit);
        proc.off('error', fail);
        // Keep draining the log so a chatty server never blocks on a full pipe.
        proc.stderr?.resume();
      };
      function done(): void {
        cleanup();
        resolve();
      }
      function fail(error: Error): void {
        cleanup();
        if (child === proc) child = undefined;
        proc.kill('SIGKILL');
        reject(error);
      }
      proc.stderr?.on('data', onData);
      proc.once('exit', onExit);
      proc.once('error', fail);
    });
    proc.once('exit', () => {
      if (child === proc) child = undefined;
    });
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const escalate = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => {
        clearTimeout(escalate);
        resolve();
      });
      proc.kill('SIGINT');
    });
  }

  return {
    port,
    dataDir,
    start,
    stop,
    killNow: () => child?.kill('SIGKILL'),
    get running() {
      return child !== undefined;
    },
  };
}
