import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../dist/sandbox/redis-server.js';
import type { BenchConfig } from './config.js';

/*
 * A young-generation collection between runs, so the garbage one system's run leaves behind (nearly all of it
 * short-lived) is not collected on the next run's clock. Not a full collection: measured with --trace-deopt, each
 * forced full collection was followed by 18–32 deoptimizations of both systems' code (mostly "wrong map"), so every
 * run began by re-optimizing, which a process under steady load never does (BullMQ +12% and lagless +40% Node CPU a
 * job for 20 concurrent distinct-args enqueues). Old-generation garbage is left to V8's own major collections,
 * which the rotating run order spreads over every side.
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as (options: { type: 'minor' }) => void;

/**
 * What every scenario gets: the run's config, one private redis-server (ours alone, so FLUSHALL between runs is
 * safe) and an admin connection for INFO and end-of-run checks. Every run still uses its own key prefix.
 */
export class BenchContext {
  private runs = 0;

  private constructor(
    readonly config: BenchConfig,
    private readonly server: RedisServerHandle,
    readonly admin: Redis,
  ) {}

  static async start(config: BenchConfig): Promise<BenchContext> {
    const server = await startRedisServer();
    return new BenchContext(config, server, new Redis(server.url, { maxRetriesPerRequest: null }));
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  /** A key prefix no other run of this process uses. */
  prefix(label: string): string {
    return `bench-${label}-${++this.runs}`;
  }

  /** Empty our private server and collect the young garbage, so each run starts from the same state. */
  async reset(): Promise<void> {
    await this.admin.flushall();
    collectGarbage({ type: 'minor' });
  }

  async close(): Promise<void> {
    await this.admin.quit().catch(() => this.admin.disconnect());
    await this.server.stop();
  }
}
