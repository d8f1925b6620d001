/**
 * Clients kept for every run of a comparison: each side opens its client (a lagless app, a BullMQ Queue) on its
 * first run, the warm-up, and keeps it until the comparison ends, as a service keeps one for its life. Each run
 * still starts on an empty server (BenchContext.reset). With a client opened per run, a lagless app's first
 * ~100,000 enqueues ran 15–25 % slower than its later ones (what the JIT learnt about the last client does not
 * carry over whole to a new one), a cost a service pays once at boot; BullMQ's ran alike either way.
 */
export class KeptClients {
  private readonly closers: (() => Promise<void>)[] = [];

  /** A getter that opens the client on its first call and hands back the same one afterwards. */
  keep<T>(open: () => Promise<T>, close: (client: T) => Promise<void>): () => Promise<T> {
    let opened: Promise<T> | undefined;
    return () =>
      (opened ??= open().then((client) => {
        this.closers.push(() => close(client));
        return client;
      }));
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0)) await close();
  }
}
