import type { QueryResult, QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import { ReplicaChangedError } from '../errors.js';
import { boundedQuery, connectWithin, withClient } from './bounded.js';
import type { Lsn } from './lsn.js';
import type { DbMetrics } from './metrics.js';
import type { PoolClientLike, PoolLike } from './queryable.js';
import { isConnectionError } from './queryable.js';
import { parseReading, STATUS_SQL, type StatusReading, type StatusRow } from './reading.js';

export interface DbHostOptions {
  database: string;
  role: 'primary' | 'replica';
  url: string;
  pool: PoolLike;
  maxReplicationLagBytes: number;
  maxReplicationLagSeconds: number;
  metrics?: DbMetrics;
  logger?: Logger;
  /** Bound on a status query and on getting a connection for it (default 2 s): a hung host is a host that is down. */
  statusTimeoutMs?: number;
  /** Minimum time between two caught-up refresh queries to this host (default 10 ms): the rate bound per replica. */
  caughtUpCheckIntervalMs?: number;
  /** Monotonic clock in ms (tests inject one). */
  now?: () => number;
}

export interface CaughtUpAnswer {
  caughtUp: boolean;
  source: 'cache' | 'query';
  /** The standby incarnation the verdict is about: a read may rely on it only on a connection to that incarnation. */
  incarnation?: string;
}

/** Why a host is offline, for logs and the Databases page. */
export type OfflineReason = 'connection_error' | 'lagging' | 'left_recovery' | 'not_replaying';

/** Why a cached replay position was dropped. */
export type CacheDropReason = 'incarnation_changed' | 'left_recovery' | 'went_backwards' | 'offline';

/**
 * One PostgreSQL server: its pool, and for a replica its replay position, incarnation and health.
 *
 * Invariant: replay LSN only moves forward within one standby incarnation, so a cached value ≥ L proves L was
 * replayed — but only by that incarnation. A crash or restart reopens the standby from its last restartpoint
 * (far behind), a promotion or another server at the address is another server altogether. So the cache is
 * tagged with the incarnation read in the same statement, dropped on an incarnation change, a connection
 * error, an offline mark, a lower reading or promotion, and a read relying on it runs only on a connection
 * that proved the same incarnation (one status query when the connection is first used, never one per job).
 */
export class DbHost {
  readonly database: string;
  readonly role: 'primary' | 'replica';
  readonly url: string;
  /** `host:port`, for metrics and logs (the URL may hold a password). */
  readonly label: string;
  readonly pool: PoolLike;
  /** Status queries sent to this host (proofs, refreshes, health checks, stamps), for tests. */
  readonly stats = { statusQueries: 0 };
  /** From the last health check's fresh reading, never from the cache. */
  lagBytes: bigint | undefined;
  lagSeconds: number | undefined;
  lastError: unknown;
  offlineReason: OfflineReason | undefined;
  /** The incarnation last seen and its start time; they survive cache drops so a change is noticed. */
  incarnation: string | undefined;
  startedAt: string | undefined;
  private online = true;
  private cache: { incarnation: string; replayLsn: Lsn } | undefined;
  /** The incarnation each connection proved (pg hands out the same client object for one connection). */
  private readonly proven = new WeakMap<PoolClientLike, StatusReading>();
  private nextRefresh: Promise<StatusReading | undefined> | undefined;
  private lastRefreshAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly options: DbHostOptions) {
    this.database = options.database;
    this.role = options.role;
    this.url = options.url;
    this.pool = options.pool;
    this.label = hostLabel(options.url);
    this.now = options.now ?? (() => performance.now());
    // An idle connection dropped by the server (restart, failover) must not crash the process.
    options.pool.on?.('error', (error) => this.markOffline(error));
  }

  get isOnline(): boolean {
    return this.online;
  }

  get cachedReplayLsn(): Lsn | undefined {
    return this.cache?.replayLsn;
  }

  /** The incarnation whose cached replay position proves `lsn`, without I/O; undefined when the cache cannot. */
  cachedVerdict(lsn: Lsn): string | undefined {
    return this.cache !== undefined && this.cache.replayLsn >= lsn ? this.cache.incarnation : undefined;
  }

  /** Answer from the cache when it proves L; otherwise from the next (rate-bounded, shared) refresh. */
  async caughtUp(lsn: Lsn): Promise<CaughtUpAnswer> {
    const cached = this.cachedVerdict(lsn);
    if (cached !== undefined) return { caughtUp: true, source: 'cache', incarnation: cached };
    const reading = await this.refreshReplayLsn();
    const proves = this.online && reading?.inRecovery === true && reading.replayLsn !== undefined && reading.replayLsn >= lsn;
    return proves ? { caughtUp: true, source: 'query', incarnation: reading.incarnation } : { caughtUp: false, source: 'query' };
  }

  /**
   * A reading from a status query sent after this call, shared by every caller until it is sent, and sent no
   * sooner than `caughtUpCheckIntervalMs` after the previous one: however many jobs ask, the replica sees at
   * most one caught-up query per interval from this process. Undefined (and offline) when it cannot answer.
   */
  refreshReplayLsn(): Promise<StatusReading | undefined> {
    if (this.nextRefresh) return this.nextRefresh;
    const delayMs = this.lastRefreshAt + (this.options.caughtUpCheckIntervalMs ?? 10) - this.now();
    const sent = (delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, delayMs)) : Promise.resolve()).then(() => {
      this.nextRefresh = undefined;
      this.lastRefreshAt = this.now();
      return this.readStatus().catch((error: unknown) => {
        this.markOffline(error);
        return undefined;
      });
    });
    this.nextRefresh = sent;
    return sent;
  }

  /**
   * A replay position read by a query that starts now (never a shared older one): what WAL stamping needs,
   * since the stamp must cover data this context already read. Throws when the host cannot answer.
   */
  async freshReplayLsn(): Promise<Lsn> {
    const reading = await this.readStatus();
    if (reading.replayLsn === undefined || !reading.inRecovery) throw new Error(`${this.label} is not replaying WAL (not a standby?)`);
    return reading.replayLsn;
  }

  /** Health from a fresh reading and the primary's position: online when either lag is within its limit. */
  async checkHealth(primaryLsn: Lsn | undefined): Promise<void> {
    let reading: StatusReading;
    try {
      reading = await this.readStatus();
    } catch (error) {
      this.markOffline(error);
      return;
    }
    if (!reading.inRecovery) return; // observe() took it out of rotation
    const replayed = reading.replayLsn;
    // Compare against the primary position read before this query: a negative diff is just "no lag".
    this.lagBytes = replayed !== undefined && primaryLsn !== undefined ? (primaryLsn > replayed ? primaryLsn - replayed : 0n) : undefined;
    this.lagSeconds = reading.lagSeconds;
    const bytesOk = this.lagBytes !== undefined && this.lagBytes <= BigInt(this.options.maxReplicationLagBytes);
    // Seconds grow while the primary is idle (no new transactions to replay), which is why bytes can also keep it online.
    const secondsOk = this.lagSeconds !== undefined && this.lagSeconds <= this.options.maxReplicationLagSeconds;
    if (replayed === undefined) this.setOffline('not_replaying');
    else if (bytesOk || secondsOk) this.setOnline();
    else this.setOffline('lagging');
    const labels = { database: this.database, host: this.label };
    if (this.lagBytes !== undefined) this.options.metrics?.replicaLagBytes.set(labels, Number(this.lagBytes));
    if (this.lagSeconds !== undefined) this.options.metrics?.replicaLagSeconds.set(labels, this.lagSeconds);
  }

  markOffline(error: unknown): void {
    this.lastError = error;
    this.setOffline('connection_error');
  }

  /**
   * Run a statement here. With `incarnation` (a caught-up verdict), the connection must first prove it talks to
   * that incarnation of the standby, else ReplicaChangedError and nothing runs: the caller reads from the primary.
   */
  query<R extends QueryResultRow = QueryResultRow>(text: string, values: unknown[] | undefined, incarnation: string | undefined): Promise<QueryResult<R>> {
    return withClient(this.pool, this.statusTimeoutMs, this.label, isBroken, async (client) => {
      if (incarnation !== undefined) await this.prove(client, incarnation);
      return client.query<R>(text, values);
    });
  }

  /** A pool for a job's reads under a verdict: every connection it hands out has proved `incarnation` (for Kysely, Drizzle, ...). */
  provenPool(incarnation: string | undefined): PoolLike {
    if (incarnation === undefined) return this.pool;
    return {
      query: <R extends QueryResultRow>(text: string, values?: unknown[]) => this.query<R>(text, values, incarnation),
      connect: async () => {
        const client = await this.connect();
        try {
          await this.prove(client, incarnation);
        } catch (error) {
          client.release(error instanceof ReplicaChangedError ? undefined : (error as Error));
          throw error;
        }
        return client;
      },
      end: () => this.pool.end(),
    };
  }

  /** Drain (checked-out clients finish) and close. */
  async close(): Promise<void> {
    await this.pool.end();
  }

  private async prove(client: PoolClientLike, incarnation: string): Promise<void> {
    const reading = this.proven.get(client) ?? (await this.readStatusOn(client));
    if (reading.incarnation !== incarnation || !reading.inRecovery) {
      throw new ReplicaChangedError(this.database, this.label, incarnation, reading.inRecovery ? reading.incarnation : `${reading.incarnation} (out of recovery)`);
    }
  }

  private connect(): Promise<PoolClientLike> {
    return connectWithin(this.pool, this.statusTimeoutMs, this.label);
  }

  private get statusTimeoutMs(): number {
    return this.options.statusTimeoutMs ?? 2_000;
  }

  /** One status query on a pooled connection, which it proves in passing. */
  private readStatus(): Promise<StatusReading> {
    return withClient(this.pool, this.statusTimeoutMs, this.label, isBroken, (client) => this.readStatusOn(client));
  }

  private async readStatusOn(client: PoolClientLike): Promise<StatusReading> {
    this.stats.statusQueries++;
    const { rows } = await boundedQuery<StatusRow>(client, STATUS_SQL, this.statusTimeoutMs, `status query to ${this.label}`);
    const reading = parseReading(rows[0], this.label);
    this.proven.set(client, reading);
    if (this.role === 'replica') this.observe(reading);
    return reading;
  }

  /** Fold a fresh reading into the cache, applying the rules in the class comment. */
  private observe(reading: StatusReading): void {
    const labels = { database: this.database, host: this.label };
    if (this.incarnation !== undefined && this.incarnation !== reading.incarnation) {
      this.options.metrics?.incarnationChanges.inc(labels);
      this.options.logger?.warn({ event: 'replica_incarnation_changed', ...labels, from: this.incarnation, to: reading.incarnation, started_at: reading.startedAt }, 'replica is another standby incarnation now (restart, crash or replacement)');
      this.dropCache('incarnation_changed');
      // The old incarnation's lag says nothing of the new one's: unknown until a health reading of this one.
      this.lagBytes = undefined;
      this.lagSeconds = undefined;
    }
    const leftRecovery = this.incarnation === reading.incarnation && this.offlineReason === 'left_recovery';
    this.incarnation = reading.incarnation;
    this.startedAt = reading.startedAt;
    if (!reading.inRecovery) {
      if (!leftRecovery) {
        this.options.metrics?.leftRecovery.inc(labels);
        this.options.logger?.warn({ event: 'replica_left_recovery', ...labels, incarnation: reading.incarnation }, 'replica left recovery (promoted): no longer used as a replica');
      }
      this.dropCache('left_recovery');
      this.setOffline('left_recovery');
      return;
    }
    const replayed = reading.replayLsn;
    if (replayed === undefined) return;
    if (this.cache !== undefined && replayed < this.cache.replayLsn) this.dropCache('went_backwards');
    if (this.cache === undefined || replayed > this.cache.replayLsn) this.cache = { incarnation: reading.incarnation, replayLsn: replayed };
  }

  private dropCache(reason: CacheDropReason): void {
    if (this.cache === undefined) return;
    const labels = { database: this.database, host: this.label };
    this.options.metrics?.cacheDrops.inc({ ...labels, reason });
    this.options.logger?.info({ event: 'replica_cache_dropped', ...labels, reason, incarnation: this.cache.incarnation }, 'dropped the cached replay position of a replica');
    this.cache = undefined;
  }

  private setOnline(): void {
    if (this.role !== 'replica') return;
    if (!this.online) this.options.logger?.info({ event: 'replica_online', database: this.database, host: this.label }, 'replica is online');
    this.online = true;
    this.offlineReason = undefined;
    this.options.metrics?.replicaOnline.set({ database: this.database, host: this.label }, 1);
  }

  private setOffline(reason: OfflineReason): void {
    if (this.role !== 'replica') return; // the primary is never out of rotation: its errors reach the caller
    if (this.online || this.offlineReason !== reason) {
      const error = this.lastError instanceof Error ? this.lastError.message : undefined;
      this.options.logger?.warn({ event: 'replica_offline', database: this.database, host: this.label, reason, ...(reason === 'connection_error' && error ? { error } : {}) }, 'replica is offline');
    }
    this.online = false;
    this.offlineReason = reason;
    this.dropCache('offline');
    this.options.metrics?.replicaOnline.set({ database: this.database, host: this.label }, 0);
  }
}

/** A connection to destroy after this error: down or hung, but not a proof that found another incarnation (it is fine). */
function isBroken(error: unknown): boolean {
  return isConnectionError(error) && !(error instanceof ReplicaChangedError);
}

export function hostLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}`;
  } catch {
    return 'unknown-host';
  }
}
