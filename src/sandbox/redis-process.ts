import { spawn, type ChildProcess } from 'node:child_process';

/** One redis-server process (data node or sentinel), known by its pid, killed only by that pid. */
export interface RedisProcess {
  readonly port: number;
  readonly pid: number;
  /** SIGKILL: no shutdown, no final write, as a crashed host. Resolves when the process has exited. */
  kill(): Promise<void>;
  readonly exited: boolean;
}

/**
 * Spawn `redis-server <args>` and resolve once its log prints `readyText` (data nodes: "Ready to accept
 * connections"; sentinels: "Sentinel ID is"). Rejects with the last lines of the log if it exits first.
 */
export async function spawnRedisProcess(port: number, args: string[], readyText: string): Promise<RedisProcess> {
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.includes(readyText)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`redis-server ${args.join(' ')} exited with code ${code}: ${out.slice(-500)}`));
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', reject);
    child.once('exit', onExit);
  });
  return {
    port,
    pid: child.pid!,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
  };
}
