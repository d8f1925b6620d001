/**
 * One leased job as the runtime holds it. The AbortController behind `signal` is made only when perform asks
 * for it: most jobs never do, and one controller per job is measurable at tens of thousands of jobs a second.
 */
export class JobLease {
  private controller?: AbortController;
  private handedBack = false;

  private slotFreed = false;

  constructor(
    readonly queue: string,
    readonly jid: string,
    private readonly freeSlot: () => void,
  ) {}

  /**
   * perform is over: its slot may take the next job while this one is still being acked, so the next fetch and
   * this ack travel together instead of one after the other. The lease itself lasts until the job is settled.
   */
  performed(): void {
    if (this.slotFreed) return;
    this.slotFreed = true;
    this.freeSlot();
  }

  private timeout?: Error;

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.handedBack) this.controller.abort();
    else if (this.timeout) this.controller.abort(this.timeout);
    return this.controller.signal;
  }

  /** The attempt ran past the worker's timeoutMs: abort `signal` with that error (the job is failed, not handed back). */
  timedOut(error: Error): void {
    this.timeout = error;
    this.controller?.abort(error);
  }

  /** True once stop() gave the job back to the queue; what perform does after that does not count. */
  get aborted(): boolean {
    return this.handedBack;
  }

  abort(): void {
    this.handedBack = true;
    this.controller?.abort();
  }
}
