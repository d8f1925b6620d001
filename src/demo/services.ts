import { redisServerAvailable, startRedisServer, type RedisServerHandle } from '../sandbox/redis-server.js';

/** Processes the demo starts; all stopped on exit, including Ctrl-C. */
export class DemoServices {
  private readonly stops: (() => Promise<void>)[] = [];
  redis?: RedisServerHandle;

  async startRedisIfAvailable(): Promise<string> {
    if (!redisServerAvailable()) return 'redis-server is not on PATH: using the in-memory store (install redis-server to see the Redis store).';
    this.redis = await startRedisServer();
    this.stops.push(() => this.redis!.stop());
    return `Started a private redis-server on ${this.redis.url}.`;
  }

  onStop(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async stopAll(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop().catch(() => undefined);
  }
}
