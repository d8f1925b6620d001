import type { Redis } from 'ioredis';

const BLOCK_SECONDS = 5;

/**
 * Blocking wake-up instead of polling: one BLPOP per queue on that queue's signal list, each on its own
 * connection (a cluster cannot BLPOP keys from several slots at once). A BLPOP still pending when a wait ends is
 * kept and reused by the next wait, so a wake-up token is never consumed by a wait that already returned.
 */
export class SignalWaiter {
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly connections = new Map<string, Redis>();

  constructor(private readonly connect: () => Redis) {}

  async wait(signalKeys: string[], timeoutMs: number, abort?: AbortSignal): Promise<void> {
    if (abort?.aborted) return;
    const waits = signalKeys.map((key) => this.blpop(key));
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      ...waits,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        onAbort = resolve;
        abort?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) abort?.removeEventListener('abort', onAbort);
  }

  private blpop(key: string): Promise<unknown> {
    let pending = this.pending.get(key);
    if (!pending) {
      let connection = this.connections.get(key);
      if (!connection) {
        connection = this.connect();
        this.connections.set(key, connection);
      }
      pending = connection
        .blpop(key, BLOCK_SECONDS)
        .catch(() => new Promise((resolve) => setTimeout(resolve, 100)))
        .finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  close(): void {
    for (const connection of this.connections.values()) connection.disconnect();
    this.connections.clear();
    this.pending.clear();
  }
}
