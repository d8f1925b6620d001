import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { spawnRedisProcess, type RedisProcess } from './redis-process.js';
import { freePort } from './redis-server.js';

export interface RedisClusterHandle {
  /** Every node as redis://127.0.0.1:port (masters and replicas, as created); any of them seeds a client. */
  readonly nodes: string[];
  readonly processes: readonly RedisProcess[];
  /** The ports of the nodes that are masters now and have not been killed. */
  masters(): Promise<number[]>;
  /** SIGKILL one node; with `cluster-node-timeout` short, its replica is promoted within a few seconds. */
  killNode(port: number): Promise<void>;
  /** Resolves when every live node reports `cluster_state:ok` and every slot is served by a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** 3 or more; or 1, without replicas (Redis Cluster's own price, apart from sharding: the bench compares it). */
  masters?: number;
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a silent master is waited for before its replica takes over. */
  nodeTimeoutMs?: number;
}

/**
 * A private Redis Cluster on free loopback ports (default 3 masters + 3 replicas), each node in its own temp
 * directory with persistence off. Processes are known by pid and killed by pid on `stop()`, even when start fails
 * half-way.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masterCount = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  if (masterCount === 1 && replicas > 0) throw new Error('a one-master sandbox cluster has no replicas: pass replicasPerMaster: 0');
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1500;
  const dir = mkdtempSync(join(tmpdir(), 'lagless-cluster-'));
  const processes: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masterCount * (1 + replicas); i++) {
      const port = await freePort();
      const args = [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeoutMs),
        // A replica may take over whatever its last contact with the master: the tests kill masters under load.
        '--cluster-replica-validity-factor', '0',
        // A replica's first sync starts at once (the default waits 5 s for more replicas to share one transfer).
        '--repl-diskless-sync-delay', '0',
        // A lone node learns no address of its own from a peer: announce it, or CLUSTER SLOTS names no host.
        ...(masterCount === 1 ? ['--cluster-announce-ip', '127.0.0.1'] : []),
      ];
      processes.push(await spawnRedisProcess(port, args, 'Ready to accept connections'));
    }
    // redis-cli --cluster create wants 3 masters or more: a lone master takes every slot itself.
    if (masterCount === 1) await nodeCommand(processes[0]!.port, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
    else await redisCli(['--cluster', 'create', ...processes.map((p) => `127.0.0.1:${p.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
    const handle = clusterHandle(processes, stop);
    await handle.waitHealthy(30_000);
    return handle;
  } catch (error) {
    await stop();
    throw error;
  }
}

function clusterHandle(processes: RedisProcess[], stop: () => Promise<void>): RedisClusterHandle {
  const live = (): RedisProcess[] => processes.filter((p) => !p.exited);
  const masters = async (): Promise<number[]> => {
    const ports: number[] = [];
    for (const p of live()) if ((await nodeCommand(p.port, ['ROLE']).catch(() => []))[0] === 'master') ports.push(p.port);
    return ports;
  };
  return {
    nodes: processes.map((p) => `redis://127.0.0.1:${p.port}`),
    processes,
    masters,
    async killNode(port) {
      await processes.find((p) => p.port === port)?.kill();
    },
    async waitHealthy(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await healthy(live())) return;
        if (Date.now() > deadline) throw new Error(`the sandbox Redis Cluster was not healthy within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop,
  };
}

/**
 * Every live node says the cluster is ok, the slots are all served by live masters, and every live replica's link to
 * its master is up (so WAIT can count it).
 */
async function healthy(nodes: RedisProcess[]): Promise<boolean> {
  const livePorts = new Set(nodes.map((n) => n.port));
  for (const node of nodes) {
    const replication = String(await nodeCommand(node.port, ['INFO', 'replication']).catch(() => ''));
    if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) {
      // A replica of a master that is gone for good stays down: only a replica of a live master must be linked.
      const masterPort = Number(/master_port:(\d+)/.exec(replication)?.[1]);
      if (livePorts.has(masterPort)) return false;
    }
    const info = String(await nodeCommand(node.port, ['CLUSTER', 'INFO']).catch(() => ''));
    if (!info.includes('cluster_state:ok')) return false;
    const slots = (await nodeCommand(node.port, ['CLUSTER', 'SLOTS']).catch(() => [])) as [number, number, [string, number]][];
    let covered = 0;
    for (const [from, to, [, port]] of slots) {
      if (!livePorts.has(Number(port))) return false;
      covered += to - from + 1;
    }
    if (covered !== 16384) return false;
  }
  return true;
}

/** One command on a short-lived, non-cluster connection to one node. */
export async function nodeCommand(port: number, command: string[]): Promise<unknown[]> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const reply = await redis.call(command[0]!, ...command.slice(1));
    return Array.isArray(reply) ? reply : [reply];
  } finally {
    redis.disconnect();
  }
}

function redisCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli ${args.join(' ')} exited with code ${code}: ${out.slice(-500)}`))));
  });
}
