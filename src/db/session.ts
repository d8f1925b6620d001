import { AsyncLocalStorage } from 'node:async_hooks';
import type { DbHost } from './host.js';
import type { ReplicaRoute } from './load-balancer.js';
import type { Lsn } from './lsn.js';
import type { PoolClientLike } from './queryable.js';

/** What one async context (a request, a job) did with one database; drives read routing and WAL stamping. */
export interface DbSessionEntry {
  /** Wrote to the primary (committed or autocommit): stamp the primary's position, read only what has it. */
  wrote: boolean;
  /** A write happened after `requiredLsn` was taken; the next read fetches the primary's position first. */
  needsWriteLsn: boolean;
  /** Reads must come from a host that has replayed at least this. */
  requiredLsn: Lsn | undefined;
  /** Replicas this context read from; stamping uses their replay positions when nothing was written. */
  readonly replicasRead: Set<DbHost>;
  /**
   * Job routing: reads go here (the decision's host, with the incarnation its verdict is about) until the first
   * write moves them to the primary.
   */
  pinned: ReplicaRoute | undefined;
}

/** An open transaction: its client and the callbacks held until COMMIT. */
export interface OpenTransaction {
  readonly database: string;
  readonly client: PoolClientLike;
  readonly held: (() => unknown)[];
}

interface Frame {
  readonly entries: Map<string, DbSessionEntry>;
  readonly transactions: readonly OpenTransaction[];
}

/**
 * Per-async-context database sessions (AsyncLocalStorage). Outside any context a process-wide frame still
 * gives read-your-writes within the process, but WAL stamping treats "no context" as "use the primary".
 * One instance per app: no module-level state.
 */
export class DbSessions {
  private readonly storage = new AsyncLocalStorage<Frame>();
  private readonly processFrame: Frame = { entries: new Map(), transactions: [] };

  /** Run `fn` in a fresh context; `pinned` routes each named database's reads to the given host (job execution). */
  run<T>(fn: () => Promise<T>, pinned: Readonly<Record<string, ReplicaRoute | undefined>> = {}): Promise<T> {
    const frame: Frame = { entries: new Map(), transactions: [] };
    for (const [database, route] of Object.entries(pinned)) if (route) entry(frame, database).pinned = route;
    return this.storage.run(frame, fn);
  }

  inContext(): boolean {
    return this.storage.getStore() !== undefined;
  }

  entry(database: string): DbSessionEntry {
    return entry(this.frame(), database);
  }

  /** Record a write to `database`'s primary; inside a job it also moves the rest of the job to `primary`. */
  markWrite(database: string, primary: DbHost): void {
    const current = this.entry(database);
    current.wrote = true;
    current.needsWriteLsn = true;
    if (current.pinned) current.pinned = { host: primary, incarnation: undefined };
  }

  /** The innermost open transaction on `database` in this context, if any. */
  openTransaction(database?: string): OpenTransaction | undefined {
    const open = this.frame().transactions;
    for (let i = open.length - 1; i >= 0; i--) if (database === undefined || open[i]!.database === database) return open[i];
    return undefined;
  }

  /** Run `fn` with `transaction` open in this context (same entries, so writes still count for the context). */
  withTransaction<T>(transaction: OpenTransaction, fn: () => Promise<T>): Promise<T> {
    const frame = this.frame();
    return this.storage.run({ entries: frame.entries, transactions: [...frame.transactions, transaction] }, fn);
  }

  /**
   * Hold `callback` until the innermost open transaction commits (dropped on rollback); returns false,
   * without calling it, when no transaction is open so the caller runs it now. Enqueues use this: an LSN
   * read before the COMMIT record is written is too early and would let the job read stale data.
   */
  afterCommit(callback: () => unknown): boolean {
    const open = this.openTransaction();
    if (!open) return false;
    open.held.push(callback);
    return true;
  }

  /**
   * Stop tracking contexts (a later `run` starts again). While any AsyncLocalStorage is enabled, Node runs a hook
   * on every promise in the process, which makes promise-heavy code about half again as slow: a closed app must
   * not leave that cost behind for the rest of the process.
   */
  close(): void {
    this.storage.disable();
  }

  private frame(): Frame {
    return this.storage.getStore() ?? this.processFrame;
  }
}

function entry(frame: Frame, database: string): DbSessionEntry {
  let found = frame.entries.get(database);
  if (!found) {
    found = { wrote: false, needsWriteLsn: false, requiredLsn: undefined, replicasRead: new Set(), pinned: undefined };
    frame.entries.set(database, found);
  }
  return found;
}
