import { parseLsn, type Lsn } from './lsn.js';
import type { DbMetrics } from './metrics.js';
import type { PoolLike } from './queryable.js';

export interface DbHostOptions {
  database: string;
  role: 'primary' | 'replica';
  url: string;
  pool: PoolLike;
  maxReplicationLagBytes: number;
  maxReplicationLagSeconds: number;
  metrics?: DbMetrics;
  /** A status query slower than this counts as a failure (default 2 s), so a hung host cannot hold every caller. */
  statusTimeoutMs?: number;
}

export interface CaughtUpAnswer {
  caughtUp: boolean;
  source: 'cache' | 'query';
}

const STATUS_SQL = `select pg_last_wal_replay_lsn()::text as replay_lsn,
  extract(epoch from (clock_timestamp() - pg_last_xact_replay_timestamp()))::float8 as lag_seconds`;

/**
 * One PostgreSQL server: its pool, and for a replica its replay position and health.
 *
 * Invariant: a replica's replay LSN only moves forward, so `cachedReplayLsn` only ever rises, and a cached
 * value ≥ L proves the replica has replayed L without asking it. Only a cache that is behind costs a
 * query, and concurrent callers share the one in flight for this host.
 */
export class DbHost {
  readonly database: string;
  readonly role: 'primary' | 'replica';
  readonly url: string;
  /** `host:port`, for metrics and logs (the URL may hold a password). */
  readonly label: string;
  readonly pool: PoolLike;
  /** Replay-status queries sent to this host, for tests and the benchmark (round trips per job). */
  readonly stats = { statusQueries: 0 };
  lagBytes: bigint | undefined;
  lagSeconds: number | undefined;
  lastError: unknown;
  private online = true;
  private replayLsn: Lsn | undefined;
  private inFlight: Promise<Lsn | undefined> | undefined;

  constructor(private readonly options: DbHostOptions) {
    this.database = options.database;
    this.role = options.role;
    this.url = options.url;
    this.pool = options.pool;
    this.label = hostLabel(options.url);
    // An idle connection dropped by the server (restart, failover) must not crash the process.
    options.pool.on?.('error', (error) => this.markOffline(error));
  }

  get isOnline(): boolean {
    return this.online;
  }

  get cachedReplayLsn(): Lsn | undefined {
    return this.replayLsn;
  }

  /** Answer from the cache when it proves L; otherwise from the shared refresh. Counts the check in metrics. */
  async caughtUp(lsn: Lsn): Promise<CaughtUpAnswer> {
    if (this.replayLsn !== undefined && this.replayLsn >= lsn) return { caughtUp: true, source: 'cache' };
    const replayed = await this.refreshReplayLsn();
    return { caughtUp: replayed !== undefined && replayed >= lsn, source: 'query' };
  }

  /** Ask the replica where it is, sharing an in-flight query; undefined (and offline) when it cannot answer. */
  refreshReplayLsn(): Promise<Lsn | undefined> {
    this.inFlight ??= withTimeout(this.queryStatus(), this.options.statusTimeoutMs ?? 2_000, `status query to ${this.label}`)
      .then(() => this.replayLsn)
      .catch((error: unknown) => {
        this.markOffline(error);
        return undefined;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /**
   * A replay position read by a query that starts now (never a shared older one): what WAL stamping needs,
   * since the stamp must cover data this context already read. Throws when the host cannot answer.
   */
  async freshReplayLsn(): Promise<Lsn> {
    await this.queryStatus();
    if (this.replayLsn === undefined) throw new Error(`${this.label} is not replaying WAL (not a standby?)`);
    return this.replayLsn;
  }

  /** Update health from a status query and the primary's position: online when either lag is within its limit. */
  async checkHealth(primaryLsn: Lsn | undefined): Promise<void> {
    try {
      await withTimeout(this.queryStatus(), this.options.statusTimeoutMs ?? 2_000, `status query to ${this.label}`);
    } catch (error) {
      this.markOffline(error);
      return;
    }
    // Compare against the primary position read before this query: a negative diff is just "no lag".
    const replayed = this.replayLsn;
    this.lagBytes = replayed !== undefined && primaryLsn !== undefined ? (primaryLsn > replayed ? primaryLsn - replayed : 0n) : undefined;
    const bytesOk = this.lagBytes !== undefined && this.lagBytes <= BigInt(this.options.maxReplicationLagBytes);
    // Seconds grow while the primary is idle (no new transactions to replay), which is why bytes can also keep it online.
    const secondsOk = this.lagSeconds !== undefined && this.lagSeconds <= this.options.maxReplicationLagSeconds;
    this.setOnline(replayed !== undefined && (bytesOk || secondsOk));
    const labels = { database: this.database, host: this.label };
    if (this.lagBytes !== undefined) this.options.metrics?.replicaLagBytes.set(labels, Number(this.lagBytes));
    if (this.lagSeconds !== undefined) this.options.metrics?.replicaLagSeconds.set(labels, this.lagSeconds);
  }

  markOffline(error: unknown): void {
    this.lastError = error;
    this.setOnline(false);
  }

  private setOnline(online: boolean): void {
    this.online = online;
    if (this.role === 'replica') this.options.metrics?.replicaOnline.set({ database: this.database, host: this.label }, online ? 1 : 0);
  }

  private async queryStatus(): Promise<void> {
    this.stats.statusQueries++;
    const { rows } = await this.pool.query<{ replay_lsn: string | null; lag_seconds: number | null }>(STATUS_SQL);
    const row = rows[0];
    if (row?.replay_lsn) {
      const replayed = parseLsn(row.replay_lsn, `pg_last_wal_replay_lsn() on ${this.label}`);
      if (this.replayLsn === undefined || replayed > this.replayLsn) this.replayLsn = replayed;
    }
    this.lagSeconds = row?.lag_seconds ?? undefined;
  }

  /** Drain (checked-out clients finish) and close. */
  async close(): Promise<void> {
    await this.pool.end();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function hostLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}`;
  } catch {
    return 'unknown-host';
  }
}
