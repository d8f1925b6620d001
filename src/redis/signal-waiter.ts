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
 * One BLPOP may name keys of many hash slots on a single Redis only: on Redis Cluster (`perKey`) each signal key
 * gets its own BLPOP and connection, as a queue's keys share one slot but two queues' keys need not.
 */
export class SignalWaiter {
  /** Every signal key waited on so far, in the order first asked: a process's queues are fixed by its workers. */
  private readonly keys = new Set<string>();
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Keys whose token was popped while no wait was on them. */
  private readonly fired = new Set<string>();
  /** One blocking connection per group of keys: the only group '' on a single Redis, each key on a cluster. */
  private readonly connections = new Map<string, RedisClient>();
  private readonly blocking = new Set<string>();
  private closed = false;

  constructor(
    private readonly connect: () => RedisClient,
    private readonly perKey = false,
  ) {}

  async wait(signalKeys: string[], timeoutMs: number, abort?: AbortSignal): Promise<void> {
    if (abort?.aborted) return;
    let woken = false;
    for (const key of signalKeys) woken = this.fired.delete(key) || woken;
    if (woken) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', done);
        for (const key of signalKeys) {
          const waiters = this.waiting.get(key);
          waiters?.delete(done);
          if (waiters?.size === 0) this.waiting.delete(key);
        }
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      abort?.addEventListener('abort', done, { once: true });
      for (const key of signalKeys) {
        this.keys.add(key);
        let waiters = this.waiting.get(key);
        if (!waiters) this.waiting.set(key, (waiters = new Set()));
        waiters.add(done);
      }
      this.block();
    });
  }

  /** One BLPOP at a time per group, re-sent while anyone waits. */
  private block(): void {
    if (this.closed || this.waiting.size === 0) return;
    if (!this.perKey) return this.blockGroup('', [...this.keys]);
    for (const key of this.keys) this.blockGroup(key, [key]);
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
