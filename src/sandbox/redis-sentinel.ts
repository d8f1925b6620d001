import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCommand } from './redis-cluster.js';
import { spawnRedisProcess, type RedisProcess } from './redis-process.js';
import { freePort } from './redis-server.js';

export interface RedisSentinelHandle {
  /** The master name the sentinels monitor. */
  readonly name: string;
  readonly sentinels: { host: string; port: number }[];
  readonly primary: RedisProcess;
  readonly replica: RedisProcess;
  /** The port of the primary the sentinels name now. */
  currentPrimaryPort(): Promise<number>;
  /** Resolves when the sentinels name a live primary that has a replica in sync and know each other. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private Sentinel setup on free loopback ports: one primary, one replica, three sentinels (quorum 2) that
 * fail over after `downAfterMs` of silence. Every process is killed by pid on `stop()`, even when start fails.
 */
export async function startRedisSentinel(options: { downAfterMs?: number; name?: string } = {}): Promise<RedisSentinelHandle> {
  const name = options.name ?? 'mymaster';
  const downAfterMs = options.downAfterMs ?? 1000;
  const dir = mkdtempSync(join(tmpdir(), 'lagless-sentinel-'));
  const processes: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const dataArgs = (port: number): string[] => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--repl-diskless-sync-delay', '0'];
    const primaryPort = await freePort();
    const primary = await spawnRedisProcess(primaryPort, dataArgs(primaryPort), 'Ready to accept connections');
    processes.push(primary);
    const replicaPort = await freePort();
    const replica = await spawnRedisProcess(replicaPort, [...dataArgs(replicaPort), '--replicaof', '127.0.0.1', String(primaryPort)], 'Ready to accept connections');
    processes.push(replica);
    const sentinels: { host: string; port: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      // A sentinel rewrites its config file as it learns the topology, so each one needs its own writable file.
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} ${Math.max(3000, downAfterMs * 3)}`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      processes.push(await spawnRedisProcess(port, [file, '--sentinel'], 'Sentinel ID is'));
      sentinels.push({ host: '127.0.0.1', port });
    }
    const currentPrimaryPort = async (): Promise<number> => Number((await nodeCommand(sentinels[0]!.port, ['SENTINEL', 'get-master-addr-by-name', name]))[1]);
    const handle: RedisSentinelHandle = {
      name,
      sentinels,
      primary,
      replica,
      currentPrimaryPort,
      async waitHealthy(timeoutMs = 20_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          if (await sentinelsHealthy(sentinels, name).catch(() => false)) return;
          if (Date.now() > deadline) throw new Error(`the sandbox Sentinel setup was not healthy within ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      },
      stop,
    };
    await handle.waitHealthy(30_000);
    return handle;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every sentinel sees the same live primary with one replica linked, and the two other sentinels (needed to vote). */
async function sentinelsHealthy(sentinels: { port: number }[], name: string): Promise<boolean> {
  let primaryPort: number | undefined;
  for (const sentinel of sentinels) {
    const [, port] = await nodeCommand(sentinel.port, ['SENTINEL', 'get-master-addr-by-name', name]);
    if (primaryPort !== undefined && Number(port) !== primaryPort) return false;
    primaryPort = Number(port);
    if ((await nodeCommand(sentinel.port, ['SENTINEL', 'sentinels', name])).length < sentinels.length - 1) return false;
    const replicas = (await nodeCommand(sentinel.port, ['SENTINEL', 'replicas', name])) as string[][];
    const linked = replicas.filter((fields) => {
      const flags = fields[fields.indexOf('flags') + 1] ?? '';
      return !flags.includes('down') && !flags.includes('disconnected');
    });
    if (linked.length < 1) return false;
  }
  const role = await nodeCommand(primaryPort!, ['ROLE']);
  if (role[0] !== 'master' || !Array.isArray(role[2]) || role[2].length < 1) return false;
  // The replica is linked (its first sync done), so WAIT can count it.
  const [, replicaPort] = role[2][0] as [string, string, string];
  return String(await nodeCommand(Number(replicaPort), ['INFO', 'replication'])).includes('master_link_status:up');
}
