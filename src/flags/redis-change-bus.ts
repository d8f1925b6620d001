import type { Cluster, Redis } from 'ioredis';
import { isCluster, type RedisClient } from '../redis/connection.js';
import { parseNotice, type FlagChangeBus, type FlagChangeNotice } from './change-bus.js';

/** Default channel; a pub/sub channel is not a key, so it lives outside redis/keys.ts and the {hash tag} scheme. */
export const DEFAULT_FLAG_CHANNEL = 'lagless:feature_flags:changed';

/**
 * FlagChangeBus over Redis pub/sub. Publishes on the caller's connection; subscribes on a duplicate,
 * because a subscribed connection can run nothing else. Only the duplicate is closed by `close()`.
 */
export class RedisFlagChangeBus implements FlagChangeBus {
  private subscriber: RedisClient | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly channel: string = DEFAULT_FLAG_CHANNEL,
  ) {}

  async publish(notice: FlagChangeNotice): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(notice));
  }

  async subscribe(onNotice: (notice: FlagChangeNotice) => void, onResubscribed?: () => void): Promise<void> {
    // We resubscribe ourselves instead of ioredis's autoResubscribe: its internal SUBSCRIBE has no rejection
    // handler, and ours lets the reload run only once notices flow again (no window where one is missed).
    // A subscriber connection may queue its SUBSCRIBE until connected (the command connection it copies may not).
    const subscriber = duplicateForSubscribe(this.redis);
    this.subscriber = subscriber;
    // Swallow connection errors here (ioredis reconnects by itself); an unhandled 'error' would crash the app.
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const notice = parseNotice(message);
      if (notice) onNotice(notice);
    });
    let first = true;
    subscriber.on('ready', () => {
      // A cluster client moves its subscription to another node by itself (PUBLISH reaches every node).
      if (first || isCluster(subscriber)) return;
      // Anything published while we were disconnected was lost: reload once subscribed again.
      subscriber
        .subscribe(this.channel)
        .then(() => onResubscribed?.())
        .catch(() => undefined);
    });
    await subscriber.subscribe(this.channel);
    first = false;
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }
}

function duplicateForSubscribe(redis: RedisClient): Redis | Cluster {
  if (isCluster(redis)) return redis.duplicate([], { enableOfflineQueue: true });
  return redis.duplicate({ autoResubscribe: false, enableOfflineQueue: true });
}
