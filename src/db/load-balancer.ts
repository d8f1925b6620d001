import pg from 'pg';
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from '../errors.js';
import { within } from './bounded.js';
import { DbHost } from './host.js';
import { parseLsn, type Lsn } from './lsn.js';
import type { DbMetrics } from './metrics.js';
import type { PoolFactory, PoolLike, PoolSettings } from './queryable.js';

export interface LoadBalancerOptions {
  database: string;
  primaryUrl: string;
  replicaUrls?: readonly string[];
  maxReplicationLagBytes?: number;
  maxReplicationLagSeconds?: number;
  /** Base interval of the health checks; each host's next check is jittered ±25 % so rechecks do not align. */
  healthCheckIntervalMs?: number;
  /** Bound on getting a connection, and on the small status and WAL-position queries (default 2 s). */
  connectTimeoutMs?: number;
  /** Bound on every statement (default 30 s): `statement_timeout` on the server and the same wait in the client. */
  statementTimeoutMs?: number;
  /** How long an unused pooled connection stays open (default 10 s). */
  idleTimeoutMs?: number;
  /** Minimum time between two caught-up queries to one replica (default 10 ms). */
  caughtUpCheckIntervalMs?: number;
  poolFactory?: PoolFactory;
  metrics?: DbMetrics;
  logger?: Logger;
  random?: () => number;
}

/** A replica chosen by a caught-up verdict, and the standby incarnation the verdict is about (none: no requirement). */
export interface ReplicaRoute {
  host: DbHost;
  incarnation: string | undefined;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

export const defaultPoolFactory: PoolFactory = (url, role, settings) => {
  // A short connect timeout: an unreachable replica must fail fast so reads fall back to the primary. The server
  // cancels a statement at statement_timeout (a SQL error); a hung host cannot, so the client stops waiting a
  // little later (query_timeout) and pg destroys that connection.
  const pool = new pg.Pool({
    connectionString: url,
    max: role === 'primary' ? 20 : 10,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: settings.idleTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + settings.connectTimeoutMs,
  });
  return pool as PoolLike;
};

/** One named database (`main`, `ci`, …): its primary and replicas, and which replica may serve a read. */
export class LoadBalancer {
  readonly database: string;
  readonly primary: DbHost;
  private hosts: DbHost[] = [];
  private next = 0;
  private timers = new Map<DbHost, NodeJS.Timeout>();
  private checking = false;
  private healthPrimaryLsn: Promise<Lsn | undefined> | undefined;
  /** The shared primary-position query callers of this tick will get; cleared when it is sent. */
  private nextWalQuery: Promise<Lsn> | undefined;
  private readonly poolFactory: PoolFactory;
  private readonly random: () => number;

  constructor(private readonly options: LoadBalancerOptions) {
    this.database = options.database;
    this.poolFactory = options.poolFactory ?? defaultPoolFactory;
    this.random = options.random ?? Math.random;
    this.primary = this.makeHost(options.primaryUrl, 'primary');
    for (const url of options.replicaUrls ?? []) this.hosts.push(this.makeHost(url, 'replica'));
  }

  get replicas(): readonly DbHost[] {
    return this.hosts;
  }

  /**
   * A replica whose cached replay position is at or past `lsn`, with the incarnation that replayed it, or
   * undefined without asking anyone. The route is proof only on a connection to that incarnation.
   */
  cachedCaughtUp(lsn: Lsn, candidates = this.rotatedOnline()): ReplicaRoute | undefined {
    for (const host of candidates) {
      const incarnation = host.cachedVerdict(lsn);
      if (incarnation === undefined) continue;
      this.options.metrics?.caughtUpChecks.inc({ result: 'caught_up', source: 'cache' });
      return { host, incarnation };
    }
    return undefined;
  }

  /** An online replica (round robin) for a read with no freshness requirement. */
  anyOnlineReplica(): DbHost | undefined {
    const online = this.rotatedOnline();
    return online[0];
  }

  /** Whether any replica is online: with none, waiting for one to catch up cannot help. */
  hasOnlineReplica(): boolean {
    return this.hosts.some((host) => host.isOnline);
  }

  /**
   * A replica that has replayed `lsn`, or undefined. Cached positions are tried first (no query); only
   * if none proves it are the online replicas refreshed, each through its shared, rate-bounded refresh.
   */
  async caughtUp(lsn: Lsn): Promise<ReplicaRoute | undefined> {
    const candidates = this.rotatedOnline();
    const metric = this.options.metrics?.caughtUpChecks;
    if (candidates.length === 0) {
      metric?.inc({ result: 'no_replica', source: 'cache' });
      return undefined;
    }
    const cached = this.cachedCaughtUp(lsn, candidates);
    if (cached) return cached;
    const answers = await Promise.all(candidates.map((host) => host.caughtUp(lsn)));
    const index = answers.findIndex((answer) => answer.caughtUp);
    metric?.inc({ result: index >= 0 ? 'caught_up' : 'behind', source: 'query' });
    return index >= 0 ? { host: candidates[index]!, incarnation: answers[index]!.incarnation } : undefined;
  }

  /**
   * The primary's `pg_current_wal_insert_lsn()`, from a query that starts after this call; DatabaseUnavailableError
   * if unreachable. Callers in the same tick (a batch of enqueues) share one query, sent once all of them have
   * asked: it reads a position at or after every caller's commit, so sharing never stamps too early. A query
   * already sent is never joined.
   */
  currentWalLocation(): Promise<Lsn> {
    this.nextWalQuery ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.nextWalQuery = undefined;
      return this.queryWalLocation();
    });
    return this.nextWalQuery;
  }

  private async queryWalLocation(): Promise<Lsn> {
    let text: string | undefined;
    // A tiny query: bounded like a connect, so an enqueue against a hung primary fails within connectTimeoutMs.
    const ms = this.settings.connectTimeoutMs;
    try {
      const { rows } = await within(this.primary.pool.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn'), ms, `WAL position query to ${this.primary.label}`);
      text = rows[0]?.lsn;
    } catch (error) {
      throw new DatabaseUnavailableError(this.database, this.primary.label, error, { name: 'connectTimeoutMs', ms });
    }
    return parseLsn(text, `pg_current_wal_insert_lsn() on ${this.primary.label}`);
  }

  /** A replica's replay position from a fresh query (see DbHost.freshReplayLsn). */
  replayLocation(host: DbHost): Promise<Lsn> {
    return host.freshReplayLsn();
  }

  /** One health round: the primary's position once, then every replica (offline ones too, to bring them back). */
  async checkHealth(): Promise<void> {
    const primaryLsn = await this.currentWalLocation().catch(() => undefined);
    await Promise.all(this.hosts.map((host) => host.checkHealth(primaryLsn)));
  }

  startHealthChecks(): void {
    this.checking = true;
    for (const host of this.hosts) this.scheduleCheck(host);
  }

  /** Make the replica set exactly `urls` (discovery): new hosts are added, removed ones drained then closed. */
  async setReplicas(urls: readonly string[]): Promise<void> {
    const wanted = new Set(urls);
    const removed = this.hosts.filter((host) => !wanted.has(host.url));
    const known = new Set(this.hosts.map((host) => host.url));
    // Remove from routing first, so no new read picks a host that is draining.
    this.hosts = this.hosts.filter((host) => wanted.has(host.url));
    for (const url of urls) {
      if (known.has(url)) continue;
      const host = this.makeHost(url, 'replica');
      this.hosts.push(host);
      if (this.checking) this.scheduleCheck(host, 0);
    }
    await Promise.all(removed.map((host) => this.closeHost(host)));
  }

  async close(): Promise<void> {
    this.checking = false;
    const all = [...this.hosts, this.primary];
    this.hosts = [];
    await Promise.all(all.map((host) => this.closeHost(host)));
  }

  /** The bounds for this database's connections, with their defaults. */
  get settings(): PoolSettings {
    const { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS, idleTimeoutMs = 10_000 } = this.options;
    return { connectTimeoutMs, statementTimeoutMs, idleTimeoutMs };
  }

  private makeHost(url: string, role: 'primary' | 'replica'): DbHost {
    const { maxReplicationLagBytes = 8 * 1024 * 1024, maxReplicationLagSeconds = 60, metrics, logger, caughtUpCheckIntervalMs } = this.options;
    const settings = this.settings;
    const pool = this.poolFactory(url, role, settings);
    return new DbHost({
      database: this.database,
      role,
      url,
      pool,
      maxReplicationLagBytes,
      maxReplicationLagSeconds,
      statusTimeoutMs: settings.connectTimeoutMs,
      ...(caughtUpCheckIntervalMs !== undefined ? { caughtUpCheckIntervalMs } : {}),
      ...(metrics ? { metrics } : {}),
      ...(logger ? { logger } : {}),
    });
  }

  private async closeHost(host: DbHost): Promise<void> {
    clearTimeout(this.timers.get(host));
    this.timers.delete(host);
    await host.close();
  }

  private scheduleCheck(host: DbHost, delayMs?: number): void {
    const base = this.options.healthCheckIntervalMs ?? 1_000;
    const timer = setTimeout(async () => {
      // Hosts checked at about the same time share one primary query.
      this.healthPrimaryLsn ??= this.currentWalLocation()
        .catch(() => undefined)
        .finally(() => (this.healthPrimaryLsn = undefined));
      await host.checkHealth(await this.healthPrimaryLsn);
      if (this.checking && this.hosts.includes(host)) this.scheduleCheck(host);
    }, delayMs ?? base * (0.75 + 0.5 * this.random()));
    timer.unref();
    this.timers.set(host, timer);
  }

  private rotatedOnline(): DbHost[] {
    const online = this.hosts.filter((host) => host.isOnline);
    if (online.length < 2) return online;
    const start = this.next++ % online.length;
    return [...online.slice(start), ...online.slice(0, start)];
  }
}
