import { startPostgresCluster, type PostgresCluster } from '../sandbox/postgres-cluster.js';
import { redisServerAvailable, startRedisServer, type RedisServerHandle } from '../sandbox/redis-server.js';

/** Processes the demo starts; all stopped on exit, including Ctrl-C. */
export class DemoServices {
  private readonly stops: (() => Promise<void>)[] = [];
  redis?: RedisServerHandle;
  postgres?: PostgresCluster;

  async startRedisIfAvailable(): Promise<string> {
    if (!redisServerAvailable()) return 'redis-server is not on PATH: using the in-memory store (install redis-server to see the Redis store).';
    this.redis = await startRedisServer();
    this.stops.push(() => this.redis!.stop());
    return `Started a private redis-server on ${this.redis.url}.`;
  }

  async startPostgres(applyDelayMs: number): Promise<string> {
    this.postgres = await startPostgresCluster({ replicas: 1, applyDelayMs });
    this.stops.push(() => this.postgres!.stop());
    return `Started an embedded PostgreSQL primary and a streaming replica that applies WAL ${applyDelayMs} ms late.`;
  }

  onStop(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async stopAll(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop().catch(() => undefined);
  }
}
