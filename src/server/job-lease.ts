/**
 * One leased job as the runtime holds it. The AbortController behind `signal` is made only when perform asks
 * for it: most jobs never do, and one controller per job is measurable at tens of thousands of jobs a second.
 */
export class JobLease {
  private controller?: AbortController;
  private handedBack = false;

  constructor(
    readonly queue: string,
    readonly jid: string,
  ) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.handedBack) this.controller.abort();
    return this.controller.signal;
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
