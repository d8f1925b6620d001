import type { Redis } from 'ioredis';

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
 * One BLPOP may name keys of many hash slots on a single Redis only; on Redis Cluster it takes one BLPOP (and
 * connection) per node, over the slots that node serves.
 */
export class SignalWaiter {
  /** Every signal key waited on so far, in the order first asked: a process's queues are fixed by its workers. */
  private readonly keys = new Set<string>();
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Keys whose token was popped while no wait was on them. */
  private readonly fired = new Set<string>();
  private connection?: Redis;
  private blocking = false;
  private closed = false;

  constructor(private readonly connect: () => Redis) {}

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

  /** One BLPOP at a time, re-sent while anyone waits. */
  private block(): void {
    if (this.blocking || this.closed || this.waiting.size === 0) return;
    this.blocking = true;
    const connection = (this.connection ??= this.connect());
    connection
      .blpop([...this.keys], BLOCK_SECONDS)
      .then(
        (popped) => {
          if (popped) this.wake(popped[0]);
        },
        () => new Promise((resolve) => setTimeout(resolve, 100)),
      )
      .finally(() => {
        this.blocking = false;
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
    this.connection?.disconnect();
    this.connection = undefined;
    this.waiting.clear();
  }
}
