import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, type PostgresToolchain } from './postgres-binaries.js';

/** One postgres server process on a data directory; start/stop can be repeated (fault tests). */
export interface PostgresServer {
  readonly port: number;
  readonly dataDir: string;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): clients are disconnected, the data directory stays consistent for a restart. */
  stop(): Promise<void>;
  /** `pg_ctl stop -m immediate`: a crash (no shutdown checkpoint); a standby restarts from its last restartpoint. */
  crash(): Promise<void>;
  /** SIGSTOP the postmaster, then every process it started (a hung host: connections open, nothing answers). */
  pause(): void;
  /** SIGCONT what `pause()` stopped. */
  resume(): void;
  /** Synchronous last resort for process exit hooks. */
  killNow(): void;
  readonly running: boolean;
  /** The postmaster's pid while running. */
  readonly pid: number | undefined;
}

const READY = /database system is ready to accept (read-only )?connections/;

export function postgresServer(toolchain: PostgresToolchain, dataDir: string, port: number): PostgresServer {
  let child: ChildProcess | undefined;
  let paused = false;

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
    if (paused) resume(); // a stopped process would not handle the shutdown signal
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

  async function crash(): Promise<void> {
    const proc = child;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve())));
    runTool(toolchain, 'pg_ctl', ['stop', '-m', 'immediate', '-s', '-D', dataDir]);
    await exited;
    child = undefined;
  }

  /**
   * The postmaster first, so it starts nothing new; children are resumed before it for the same reason. A signal is
   * only queued when kill returns: a postmaster in the middle of a fork() completes it before it stops, so the
   * children are listed once it has stopped (a backend forked for a connection opened at that moment would
   * otherwise be missed, and answer its queries on a "hung" host), and pause() returns once all of them have.
   */
  function pause(): void {
    const pid = child?.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    waitUntilStopped(pid);
    const children = childrenOf(pid);
    for (const childPid of children) process.kill(childPid, 'SIGSTOP');
    for (const childPid of children) waitUntilStopped(childPid);
    paused = true;
  }

  function resume(): void {
    const pid = child?.pid;
    if (pid === undefined) return;
    for (const childPid of childrenOf(pid)) process.kill(childPid, 'SIGCONT');
    process.kill(pid, 'SIGCONT');
    paused = false;
  }

  return {
    port,
    dataDir,
    start,
    stop,
    crash,
    pause,
    resume,
    killNow: () => child?.kill('SIGKILL'),
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
  };
}

/** Blocks until `pid` is stopped (state T) or gone; a process being stopped takes microseconds. */
function waitUntilStopped(pid: number): void {
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < 2_000; waited++) {
    const state = statFields(pid)?.[0];
    if (state === undefined || state === 'T' || state === 't' || state === 'Z') return;
    Atomics.wait(tick, 0, 0, 1);
  }
  throw new Error(`process ${pid} did not stop within 2 s of SIGSTOP`);
}

/** Pids whose parent is `pid` (Linux /proc): the backends and auxiliary processes of one postmaster. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && Number(statFields(Number(entry))?.[1]) === pid) found.push(Number(entry));
  }
  return found;
}

/**
 * The fields of /proc/<pid>/stat after the command name (state, parent pid, …), or undefined once the process is
 * gone. The name comes before them in parentheses and may hold spaces and parentheses, hence the last ')'.
 */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
