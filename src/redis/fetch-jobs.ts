import type { Redis } from 'ioredis';
import { FETCH_MAX, type FetchedQueueJob, type JobFetchManyParams } from '../store/job-store.js';
import type { QueueKeys, RedisKeys } from './keys.js';
import { runScript } from './scripts.js';

export interface JobFetcherDeps {
  redis: Redis;
  keys: RedisKeys;
  queueKeys: (queue: string) => QueueKeys;
  /** Runs one call under the store's command deadline. */
  call: <T>(send: () => Promise<T>) => Promise<T>;
}

/**
 * One fetch over a worker's queues: one fetch script per group of queues whose keys may share a script, each group
 * asked for what the groups before it left of `count`. On a single Redis every queue is in one group, so the whole
 * fetch is one round trip however many queues are empty. (On Redis Cluster a script may only touch one hash slot:
 * there the groups are the queues of one slot, in priority order of their first queue.)
 */
export class JobFetcher {
  /** The 6 keys of a queue in the fetch script: every fetch sends them all. */
  private readonly scriptKeys = new Map<string, string[]>();

  constructor(private readonly deps: JobFetcherDeps) {}

  async fetch(p: JobFetchManyParams & { fetchId: string }): Promise<FetchedQueueJob[]> {
    const jobs: FetchedQueueJob[] = [];
    for (const group of scriptGroups(p.queues)) {
      const count = Math.min(p.count, FETCH_MAX) - jobs.length;
      if (count <= 0) break;
      // The resend memo lives in the slot of the group's first queue; a resend comes with the same order.
      const keys = [this.deps.keys.lastFetch(group[0]!, p.token), ...group.flatMap((queue) => this.keysOf(queue))];
      const args = [count, p.token, p.nowMs + p.leaseMs, p.nowMs, p.fetchId, p.leaseMs];
      const flat = await this.deps.call(() => runScript<(number | string)[]>(this.deps.redis, 'fetch', keys, args));
      for (let i = 0; i < flat.length; i += 3) jobs.push({ queue: group[Number(flat[i]) - 1]!, jid: String(flat[i + 1]), raw: String(flat[i + 2]) });
    }
    return jobs;
  }

  private keysOf(queue: string): string[] {
    let keys = this.scriptKeys.get(queue);
    if (!keys) {
      const k = this.deps.queueKeys(queue);
      this.scriptKeys.set(queue, (keys = [k.ready, k.leases, k.active, k.signal, k.dedup, k.paused]));
    }
    return keys;
  }
}

/** Queues that one fetch script may take together, in order: all of them on a single Redis. */
function scriptGroups(queues: string[]): string[][] {
  return queues.length === 0 ? [] : [queues];
}
