/**
 * How long a queue seen empty stays known empty without a wake-up message: the bound on how late a job is found
 * when its message was lost (the subscriber reconnecting).
 */
const TRUST_MS = 2000;

/**
 * Queues a fetch saw empty and no wake-up has been published for since (Redis Cluster only, where wake-ups are
 * pub/sub messages: a push to an empty ready list SPUBLISHes, see keys.ts). A fetch may pass over them, so a worker on
 * a queue of 8 partitions does not send 9 fetch scripts, one per slot, every time it finds the queue nearly empty.
 * Only a queue whose channel this process is subscribed to can be known empty (`subscribed`), and a fetch's "empty"
 * counts only if no message for the queue arrived while it was on its way: the message may be for a push after it.
 */
export class EmptyQueues {
  /** Wake-up messages received per queue, to tell whether one arrived during a fetch. */
  private readonly signals = new Map<string, number>();
  /** performance.now() when a fetch last saw the queue empty. */
  private readonly emptyAt = new Map<string, number>();

  constructor(private readonly subscribed: (queue: string) => boolean) {}

  /** Before a fetch: what to pass to seen() with its reply. */
  before(queues: readonly string[]): number[] {
    return queues.map((queue) => this.signals.get(queue) ?? 0);
  }

  /** After a fetch: `empty[i]` whether queues[i]'s ready list was empty when the fetch ended. */
  seen(queues: readonly string[], empty: readonly boolean[], before: readonly number[]): void {
    const now = performance.now();
    queues.forEach((queue, i) => {
      if (empty[i] && (this.signals.get(queue) ?? 0) === before[i] && this.subscribed(queue)) this.emptyAt.set(queue, now);
      else this.emptyAt.delete(queue);
    });
  }

  signaled(queue: string): void {
    this.signals.set(queue, (this.signals.get(queue) ?? 0) + 1);
    this.emptyAt.delete(queue);
  }

  isEmpty(queue: string): boolean {
    const at = this.emptyAt.get(queue);
    return at !== undefined && performance.now() - at < TRUST_MS;
  }
}
