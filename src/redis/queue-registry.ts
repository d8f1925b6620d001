import type { RedisClient } from './connection.js';
import { holdsJobs, type QueueRemoveResult, type QueueSizes } from '../store/job-store.js';

/**
 * A process registers a queue name again after a write at most this often: `queues remove` may have forgotten a
 * queue this process registered earlier (it was empty then), and a later push must make it visible again.
 */
const REGISTER_EVERY_MS = 10_000;

export interface QueueRegistryDeps {
  redis: RedisClient;
  /** The set of known queue names (RedisKeys.queues()). */
  key: string;
  /** Runs one command under the store's deadline. */
  call: <T>(send: () => Promise<T>) => Promise<T>;
  sizes: (queue: string) => Promise<QueueSizes>;
}

/**
 * The set of known queues (`lagless queues`, the dashboard). A queue is added only after a write to it succeeded: a
 * read, or a write that failed (a typo'd `dead retry --queue`), registers nothing. Not inside the write's script:
 * the set is one key for all queues, outside every queue's `{hash tag}` slot, and a script touching both would fail
 * on Redis Cluster (CROSSSLOT). For the same reason a removal is no single atomic step (see remove).
 */
export class QueueRegistry {
  /** When this process last registered each queue it wrote to (monotonic ms). */
  private readonly registeredAt = new Map<string, number>();

  constructor(private readonly deps: QueueRegistryDeps) {}

  /**
   * Call after a successful write. Sent without waiting, after the write's reply: later commands on the connection
   * see it, and a lost SADD can never make a write that succeeded look failed (the next write sends it again).
   */
  register(queue: string): void {
    const now = performance.now();
    const last = this.registeredAt.get(queue);
    if (last !== undefined && now - last < REGISTER_EVERY_MS) return;
    this.registeredAt.set(queue, now);
    const { redis, key } = this.deps;
    this.deps.call(() => redis.sadd(key, queue)).catch(() => this.registeredAt.delete(queue));
  }

  async list(): Promise<string[]> {
    const { redis, key } = this.deps;
    return (await this.deps.call(() => redis.smembers(key))).sort();
  }

  /** Check, remove, check again: a push that landed in between puts the name back and the removal is refused. */
  async remove(queue: string): Promise<QueueRemoveResult> {
    const { redis, key, call, sizes } = this.deps;
    if (!(await call(() => redis.sismember(key, queue)))) return { removed: false, reason: 'unknown' };
    const before = await sizes(queue);
    if (holdsJobs(before)) return { removed: false, reason: 'not_empty', sizes: before };
    await call(() => redis.srem(key, queue));
    const after = await sizes(queue);
    if (holdsJobs(after)) {
      await call(() => redis.sadd(key, queue));
      return { removed: false, reason: 'not_empty', sizes: after };
    }
    this.registeredAt.delete(queue);
    return { removed: true };
  }
}
