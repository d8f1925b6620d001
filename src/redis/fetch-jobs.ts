import { FETCH_MAX, type FetchedQueueJob, type JobFetchManyParams } from '../store/job-store.js';
import { isCluster, type RedisClient } from './connection.js';
import type { QueueKeys, RedisKeys } from './keys.js';
import type { EmptyQueues } from './empty-queues.js';
import { runScript } from './scripts.js';

export interface JobFetcherDeps {
  redis: RedisClient;
  keys: RedisKeys;
  queueKeys: (queue: string) => QueueKeys;
  /** Runs one call under the store's command deadline. */
  call: <T>(send: () => Promise<T>) => Promise<T>;
  /** Told which queues each fetch saw empty (Redis Cluster). */
  empty?: EmptyQueues;
}

/** How long a queue stays "hot" (sent with all its keys) after a fetch last saw jobs in it. */
const HOT_MS = 1000;

/**
 * One fetch over a worker's queues: one fetch script per group of queues whose keys may share a script, each group
 * asked for what the groups before it left of `count`. On a single Redis every queue is in one group, so the whole
 * fetch is one round trip however many queues are empty. (On Redis Cluster a script may only touch one hash slot:
 * there the groups are the queues of one slot, in priority order of their first queue, and a fetch the first group
 * recognises as a resend takes from the later groups only what its first attempt leased there.)
 * A queue not seen holding jobs in the last HOT_MS is sent "cold", as its ready list alone, so a worker on 50 queues
 * sends ~60 keys instead of ~300. A queue is hot until a first fetch has answered for it: seen empty or not looked at
 * (the fetch was full before it), it is cold from then on. When a cold queue turns out to hold jobs, the script stops
 * there and the queue is sent again hot: at once when nothing was leased (no resend memo was written, so the same
 * fetch id is safe), else on the worker's next fetch, which comes straight away as it has room.
 */
export class JobFetcher {
  /** A hot queue's 6 keys in the fetch script. */
  private readonly scriptKeys = new Map<string, string[]>();
  /** performance.now() until which each queue is sent hot. */
  private readonly hotUntil = new Map<string, number>();
  /** The kinds sent by a fetch that got no reply: its resend must send the same, or the memo could miss queues. */
  private readonly unanswered = new Map<string, string>();

  constructor(private readonly deps: JobFetcherDeps) {}

  async fetch(p: JobFetchManyParams & { fetchId: string }): Promise<FetchedQueueJob[]> {
    const jobs: FetchedQueueJob[] = [];
    const groups = scriptGroups(p.queues, isCluster(this.deps.redis));
    let resend = false;
    for (const [g, group] of groups.entries()) {
      const count = Math.min(p.count, FETCH_MAX) - jobs.length;
      if (count <= 0) break;
      // Of several groups, the first keeps a memo even when empty, so a resend knows itself there and then takes
      // from the later groups only what its first attempt leased.
      const mode = resend ? 'resend' : g === 0 && groups.length > 1 ? 'first' : '';
      // Each pass that stops at a cold queue with jobs before leasing anything sends that queue hot in the next, so
      // this ends within one pass per queue (a paused queue is only seen paused once hot, and then passed over).
      let answer = await this.fetchGroup(group, count, p, mode);
      while (answer.leased.length === 0 && answer.coldWithJobs) answer = await this.fetchGroup(group, count, p, mode);
      const { leased, fromMemo } = answer;
      if (g === 0 && fromMemo) resend = true;
      jobs.push(...leased);
    }
    return jobs;
  }

  private async fetchGroup(group: string[], count: number, p: JobFetchManyParams & { fetchId: string }, mode: '' | 'first' | 'resend'): Promise<{ leased: FetchedQueueJob[]; coldWithJobs: boolean; fromMemo: boolean }> {
    const now = performance.now();
    const sent = `${p.token}|${p.fetchId}|${group[0]}`;
    const kinds = this.unanswered.get(sent) ?? this.kindsOf(group, now);
    this.unanswered.set(sent, kinds);
    // The resend memo lives in the slot of the group's first queue; a resend comes with the same queues and kinds.
    // Plain loops: a worker on many queues builds these on every fetch.
    const keys = [this.deps.keys.lastFetch(group[0]!, p.token)];
    for (let i = 0; i < group.length; i++) {
      if (kinds[i] === 'h') keys.push(...this.keysOf(group[i]!));
      else keys.push(this.deps.queueKeys(group[i]!).ready);
    }
    const open = p.openFetchIds ? `,${p.openFetchIds.join(',')},` : '';
    const args = [count, p.token, p.nowMs + p.leaseMs, p.nowMs, p.fetchId, p.leaseMs, kinds, mode, open];
    const signals = this.deps.empty?.before(group);
    const [flat, status, memo] = await this.deps.call(() => runScript<[(number | string)[], string, number]>(this.deps.redis, 'fetch', keys, args));
    this.unanswered.delete(sent);
    if (signals) this.deps.empty!.seen(group, group.map((_, i) => status[i] === 'e'), signals);
    group.forEach((queue, i) => {
      if (status[i] === 'j' || status[i] === 'n') this.hotUntil.set(queue, now + HOT_MS);
      else if (!this.hotUntil.has(queue)) this.hotUntil.set(queue, 0);
    });
    const leased: FetchedQueueJob[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const queue = group[Number(flat[i]) - 1]!;
      this.hotUntil.set(queue, now + HOT_MS);
      leased.push({ queue, jid: String(flat[i + 1]), raw: String(flat[i + 2]) });
    }
    return { leased, coldWithJobs: status.includes('n'), fromMemo: memo === 1 };
  }

  private kindsOf(group: string[], now: number): string {
    let kinds = '';
    for (const queue of group) kinds += (this.hotUntil.get(queue) ?? Infinity) > now ? 'h' : 'c';
    return kinds;
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

/**
 * Queues that one fetch script may take together, in order: all of them on a single Redis; on a cluster each queue
 * alone (its keys share the slot of its `{queue}` tag, another queue's need not).
 */
function scriptGroups(queues: string[], cluster: boolean): string[][] {
  if (queues.length === 0) return [];
  return cluster ? queues.map((queue) => [queue]) : [queues];
}
