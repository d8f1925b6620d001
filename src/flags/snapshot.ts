import type { FlagStore } from './store/flag-store.js';
import type { FlagGates } from './types.js';

/**
 * The per-process copy of every stored flag of one environment. `enabled()` reads only this, so evaluation
 * never does I/O. Invariants:
 * - a failed reload keeps the previous snapshot (or none, meaning "use the defaults"): stale beats wrong;
 * - reloads never overlap; a reload requested while one runs triggers exactly one more afterwards, so a
 *   change committed during a load is never missed;
 * - the snapshot is replaced whole, never patched, so readers see one consistent load.
 */
export interface FlagSnapshotOptions {
  readonly store: FlagStore;
  readonly environment: string;
  /** Wall clock in ms (injected for tests). */
  readonly nowMs?: () => number;
  readonly onReloadError?: (err: unknown) => void;
  /** After a load that changed something: the names whose stored state differs from the previous snapshot. */
  readonly onChanged?: (names: string[]) => void;
  /** After every load attempt, whatever its outcome (freshness may have changed). */
  readonly onSettled?: () => void;
}

export class FlagSnapshot {
  private current: ReadonlyMap<string, FlagGates> | undefined;
  private loadedAtMs: number | undefined;
  private lastLoadFailed = false;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly firstLoad: Promise<void>;
  private resolveFirstLoad!: () => void;
  private readonly nowMs: () => number;

  constructor(private readonly options: FlagSnapshotOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.firstLoad = new Promise((resolve) => (this.resolveFirstLoad = resolve));
  }

  /** Stored gates of `name`; undefined when nothing is stored or nothing has been loaded yet (⇒ default). */
  gates(name: string): FlagGates | undefined {
    return this.current?.get(name);
  }

  get loaded(): boolean {
    return this.current !== undefined;
  }

  /** The last load attempt failed: the snapshot (if any) is what an earlier load saw. */
  get failing(): boolean {
    return this.lastLoadFailed;
  }

  /** Seconds since the last successful load; Infinity before the first. */
  ageSeconds(): number {
    return this.loadedAtMs === undefined ? Infinity : Math.max(0, (this.nowMs() - this.loadedAtMs) / 1000);
  }

  /** Resolves true after the first successful load, or false after `timeoutMs` (never rejects). */
  async ready(timeoutMs: number): Promise<boolean> {
    if (this.loaded) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([this.firstLoad.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reload now (coalesced with a running reload). Resolves when a load that started after this call has ended. */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true; // the running loop will load once more before it settles
      return this.running;
    }
    this.running = this.loop();
    return this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        const startedAtMs = this.nowMs();
        const previous = this.current;
        this.current = await this.options.store.flagLoadAll({ environment: this.options.environment });
        this.loadedAtMs = startedAtMs;
        this.resolveFirstLoad();
        this.lastLoadFailed = false;
        const changed = changedNames(previous, this.current);
        if (changed.length > 0) this.options.onChanged?.(changed);
      } catch (err) {
        this.lastLoadFailed = true;
        this.options.onReloadError?.(err);
      }
      this.options.onSettled?.();
    } while (this.again);
    // Cleared synchronously with the last `again` check: no window where a request is accepted and dropped.
    this.running = undefined;
  }
}

function changedNames(before: ReadonlyMap<string, FlagGates> | undefined, after: ReadonlyMap<string, FlagGates>): string[] {
  const names = new Set([...(before?.keys() ?? []), ...after.keys()]);
  // Gates read back in a canonical order (sorted lists), so JSON equality is state equality.
  return [...names].filter((name) => JSON.stringify(before?.get(name)) !== JSON.stringify(after.get(name))).sort();
}
