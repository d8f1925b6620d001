import type { RedisClient } from './connection.js';

/**
 * How long one BLPOP blocks. A wait that names a queue the pending BLPOP does not cover is woken by its own timeout
 * until the next BLPOP takes the queue in, so this also bounds how late a worker started later in the process
 * hears its first wake-up; one idle BLPOP a second costs nothing.
 */
const BLOCK_SECONDS = 1;

/**
 * Blocking wake-up instead of polling, on ONE connection however many queues a process waits on: a single BLPOP
 * names the signal list of every queue waited on so far (Redis pops the first list that holds a token). A token
 * popped while no wait is on its queue (the wait timed out, or its worker is busy fetching) is kept, and the next
 * wait on that queue returns at once: a wake-up is never lost to a wait that already returned.
 * One BLPOP may name keys of many hash slots on a single Redis only. On Redis Cluster (`subscribe`) the signals are
 * sharded pub/sub channels instead (keys.ts PUBLISHED_SIGNAL_SUFFIX), SPUBLISHed by the master of their slot: the
 * process SSUBSCRIBEs to every channel waited on through ONE cluster client (ioredis's `shardedSubscribers`), which
 * holds one subscriber connection per master serving a channel waited on, whatever the number of queues and
 * partitions. A message arriving while no wait is on its channel is kept as a popped token is, and a message lost
 * (a subscriber reconnecting, a failover) costs the wait its timeout.
 */
export class SignalWaiter {
  /** Every signal key waited on so far, in the order first asked: a process's queues are fixed by its workers. */
  private readonly keys = new Set<string>();
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Keys whose token was popped while no wait was on them. */
  private readonly fired = new Set<string>();
  /** The one blocking connection (or sharded-subscriber cluster client), under the group ''. */
  private readonly connections = new Map<string, RedisClient>();
  private readonly blocking = new Set<string>();
  private closed = false;

  /** Channels subscribed to (or being subscribed to), in subscribe mode. */
  private readonly subscribed = new Set<string>();
  /** Settles once every SUBSCRIBE sent so far has been answered. */
  private subscribing: Promise<unknown> = Promise.resolve();

  /** Channels whose SUBSCRIBE Redis confirmed. */
  private readonly confirmed = new Set<string>();

  constructor(
    private readonly connect: () => RedisClient,
    private readonly subscribe = false,
    /** Called with the channel of every message (subscribe mode), before any waiter is woken. */
    private readonly onMessage?: (channel: string) => void,
  ) {}

  /** Whether messages on this channel reach this process (subscribe mode). */
  isSubscribed(channel: string): boolean {
    return this.confirmed.has(channel);
  }

  /**
   * `ready` (subscribe mode): whether any waited queue holds jobs a fetch would take. A message is not a token: one
   * published before the SUBSCRIBE took effect is gone, and it wakes every process at once, so no fetch passes it
   * on. So a wait asks `ready` (at once, again after a SUBSCRIBE it sent took effect, and on every message) and
   * returns when jobs wait: the same answers as a token left in a list. (A message alone may be late news of jobs a
   * fetch took since; under load one crossed the cluster bus after the fetch that emptied the queue.)
   */
  async wait(signalKeys: string[], timeoutMs: number, abort?: AbortSignal, ready?: () => Promise<boolean>): Promise<void> {
    if (abort?.aborted) return;
    let woken = false;
    for (const key of signalKeys) woken = this.fired.delete(key) || woken;
    // A kept token means jobs were pushed since; a kept message may be late news of jobs already taken (it can
    // cross the cluster bus after the check below saw them), so in subscribe mode only that check answers.
    if (woken && !(this.subscribe && ready)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', done);
        for (const key of signalKeys) {
          const waiters = this.waiting.get(key);
          waiters?.delete(signaled);
          if (waiters?.size === 0) this.waiting.delete(key);
        }
        resolve();
      };
      const check = (): Promise<unknown> => ready!().then((jobs) => jobs && done(), () => undefined);
      // In subscribe mode a message during the wait is news to check too: it may be late news of jobs taken since.
      const signaled = this.subscribe && ready ? () => void check() : done;
      const timer = setTimeout(done, timeoutMs);
      abort?.addEventListener('abort', done, { once: true });
      for (const key of signalKeys) {
        this.keys.add(key);
        let waiters = this.waiting.get(key);
        if (!waiters) this.waiting.set(key, (waiters = new Set()));
        waiters.add(signaled);
      }
      const subscribing = this.subscribing;
      this.block();
      if (this.subscribe && ready) {
        // At once (jobs waiting need no subscription), and again once a SUBSCRIBE this wait sent took effect.
        void check();
        if (this.subscribing !== subscribing) void this.subscribing.then(check);
      }
    });
  }

  /** One BLPOP at a time, re-sent while anyone waits; or, in subscribe mode, an SSUBSCRIBE to channels not yet taken. */
  private block(): void {
    if (this.closed || this.waiting.size === 0) return;
    if (this.subscribe) return this.subscribeNew();
    this.blockGroup('', [...this.keys]);
  }

  private subscribeNew(): void {
    const fresh = [...this.keys].filter((key) => !this.subscribed.has(key));
    if (fresh.length === 0) return;
    let connection = this.connections.get('');
    if (!connection) {
      this.connections.set('', (connection = this.connect()));
      connection.on('smessage', (channel: string) => {
        this.onMessage?.(channel);
        this.wake(channel);
      });
    }
    for (const key of fresh) this.subscribed.add(key);
    // One SSUBSCRIBE per channel: channels of one call must share a slot. A refused one is asked again by the next
    // wait; meanwhile those waits end on their timeouts.
    const subscribed = fresh.map((key) =>
      connection.ssubscribe(key).then(
        () => this.confirmed.add(key),
        () => this.subscribed.delete(key),
      ),
    );
    this.subscribing = Promise.all([this.subscribing, ...subscribed]);
  }

  private blockGroup(group: string, keys: string[]): void {
    if (this.blocking.has(group)) return;
    this.blocking.add(group);
    let connection = this.connections.get(group);
    if (!connection) this.connections.set(group, (connection = this.connect()));
    connection
      .blpop(keys, BLOCK_SECONDS)
      .then(
        (popped) => {
          if (popped) this.wake(popped[0]);
        },
        () => new Promise((resolve) => setTimeout(resolve, 100)),
      )
      .finally(() => {
        this.blocking.delete(group);
        this.block();
      });
  }

  private wake(key: string): void {
    const waiters = this.waiting.get(key);
    if (waiters) for (const done of [...waiters]) done();
    else this.fired.add(key);
  }

  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.disconnect();
    this.connections.clear();
    this.waiting.clear();
  }
}
