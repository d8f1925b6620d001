import type { QueryResult, QueryResultRow } from 'pg';
import type { PoolClientLike, PoolLike } from '../../src/db/queryable.js';

/** A scripted pool: answers the db layer's status queries from fields, records every statement. */
export class FakePool implements PoolLike {
  readonly statements: string[] = [];
  replayLsn: string | null = '0/0';
  lagSeconds: number | null = 0;
  currentLsn = '0/0';
  /** The server's incarnation as the status query reports it (change `startedAt` to simulate a restart). */
  startedAt = '2026-01-01 00:00:00+00';
  systemId = '7000000000000000001';
  inRecovery = true;
  /** When set, every query rejects with it (connection refused, ...). */
  failWith: Error | undefined;
  /** Resolve status queries only when released, to hold a query in flight. */
  gate: Promise<void> | undefined;
  ended = false;
  released = 0;
  private listeners: ((error: Error) => void)[] = [];

  async query<R extends QueryResultRow = QueryResultRow>(text: string): Promise<QueryResult<R>> {
    this.statements.push(text);
    if (this.failWith) throw this.failWith;
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    let rows: unknown[] = [];
    if (text.includes('pg_last_wal_replay_lsn')) rows = [{ replay_lsn: this.replayLsn, lag_seconds: this.lagSeconds, in_recovery: this.inRecovery, started_at: this.startedAt, system_id: this.systemId }];
    else if (text.includes('pg_current_wal_insert_lsn')) rows = [{ lsn: this.currentLsn }];
    return { rows, rowCount: rows.length, command: 'SELECT', oid: 0, fields: [] } as unknown as QueryResult<R>;
  }

  /** Connections handed out so far; `connect()` reuses the newest unless it was destroyed or dropped. */
  connections = 0;
  private client: PoolClientLike | undefined;

  async connect(): Promise<PoolClientLike> {
    if (this.failWith) throw this.failWith;
    if (!this.client) {
      this.connections++;
      const client: PoolClientLike = {
        query: <R extends QueryResultRow>(text: string) => this.query<R>(text),
        release: (destroy?: Error | boolean) => {
          this.released++;
          if (destroy && this.client === client) this.client = undefined;
        },
      };
      this.client = client;
    }
    return this.client;
  }

  /** Forget the pooled connection, as a server restart does: the next `connect()` opens a new one. */
  dropConnections(): void {
    this.client = undefined;
  }

  async end(): Promise<void> {
    this.ended = true;
  }

  on(_event: 'error', listener: (error: Error) => void): void {
    this.listeners.push(listener);
  }

  emitError(error: Error): void {
    for (const listener of this.listeners) listener(error);
  }

  statusQueries(): number {
    return this.statements.filter((s) => s.includes('pg_last_wal_replay_lsn')).length;
  }
}

export function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
}

/** A promise plus its resolver, to hold a fake query in flight. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
