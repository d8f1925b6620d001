import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { UnknownDatabaseError } from '../errors.js';
import { Database } from './database.js';
import { decideLoadBalancing, type DataConsistency, type Decision, type DecisionInput } from './decision.js';
import { ReplicaDiscovery, replicaUrlFor, type DiscoveryOptions } from './discovery.js';
import { LoadBalancer, type ReplicaRoute } from './load-balancer.js';
import { createDbMetrics, type DbMetrics } from './metrics.js';
import type { PoolFactory } from './queryable.js';
import { DbSessions } from './session.js';
import { stampWalLocations, type WalStamp } from './wal-stamp.js';

/** One entry of `databases` in the lagless config. */
export interface DatabaseConfig {
  primary: string;
  replicas?: readonly string[];
  discover?: DiscoveryOptions;
  maxReplicationLagBytes?: number;
  maxReplicationLagSeconds?: number;
  healthCheckIntervalMs?: number;
  /** Bound on getting a connection and on the small status / WAL-position queries (default 2,000 ms). */
  connectTimeoutMs?: number;
  /** Bound on every statement, on the server and in the client (default 30,000 ms). */
  statementTimeoutMs?: number;
  /** How long an unused pooled connection stays open (default 10,000 ms). */
  idleTimeoutMs?: number;
  /** Minimum time between two caught-up queries to one replica from this process (default 10 ms). */
  caughtUpCheckIntervalMs?: number;
}

export interface DatabasesOptions {
  registry?: Registry;
  /** Incarnation changes, cache drops, promotions and offline marks are logged here. */
  logger?: Logger;
  poolFactory?: PoolFactory;
  /** Bounded wait of the execution decision (default 250 ms). */
  maxWaitMs?: number;
}

/**
 * Every configured database, wired: load balancers, health checks, discovery, sessions, the `db(name)`
 * facades, WAL stamping for enqueue and the load-balancing decision for execution. The core calls:
 * `stamp()` at enqueue (after COMMIT, see `sessions.afterCommit`), `decide()` then `runJob()` at execution.
 */
export class Databases {
  readonly sessions = new DbSessions();
  /** Present when a registry was given; the execution middleware increments `decisions`. */
  readonly metrics: DbMetrics | undefined;
  private readonly balancers = new Map<string, LoadBalancer>();
  private readonly facades = new Map<string, Database>();
  private readonly discoveries: ReplicaDiscovery[] = [];
  /** Configured database names, in config order. */
  readonly names: readonly string[];
  /** What every decision asks the hosts: made once, since decide() runs for every job. */
  private readonly hostChecks: Omit<DecisionInput<ReplicaRoute>, 'dataConsistency' | 'retried' | 'walLocations'>;

  constructor(
    private readonly config: Readonly<Record<string, DatabaseConfig>>,
    private readonly options: DatabasesOptions = {},
  ) {
    const metrics = options.registry ? createDbMetrics(options.registry) : undefined;
    this.metrics = metrics;
    for (const [database, db] of Object.entries(config)) {
      const balancer = new LoadBalancer({
        database,
        primaryUrl: db.primary,
        replicaUrls: db.replicas ?? [],
        ...pick(db, ['maxReplicationLagBytes', 'maxReplicationLagSeconds', 'healthCheckIntervalMs', 'connectTimeoutMs', 'statementTimeoutMs', 'idleTimeoutMs', 'caughtUpCheckIntervalMs']),
        ...(options.poolFactory ? { poolFactory: options.poolFactory } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(metrics ? { metrics } : {}),
      });
      this.balancers.set(database, balancer);
      this.facades.set(database, new Database(balancer, this.sessions));
    }
    this.names = [...this.balancers.keys()];
    this.hostChecks = {
      databases: this.names,
      caughtUp: (database, lsn) => this.balancer(database).caughtUp(lsn),
      caughtUpCached: (database, lsn) => this.balancer(database).cachedCaughtUp(lsn),
      anyReplica: (database) => {
        const host = this.balancer(database).anyOnlineReplica();
        return host && { host, incarnation: undefined };
      },
      hasReplica: (database) => this.balancer(database).hasOnlineReplica(),
      maxWaitMs: options.maxWaitMs,
    };
  }

  /** First health round and discovery lookups, then the periodic checks. */
  async start(): Promise<void> {
    await Promise.all([...this.balancers.values()].map((balancer) => balancer.checkHealth()));
    for (const [database, db] of Object.entries(this.config)) {
      if (!db.discover) continue;
      const balancer = this.balancer(database);
      const discovery = new ReplicaDiscovery(db.discover, (hosts) => balancer.setReplicas(hosts.map((host) => replicaUrlFor(db.primary, host))));
      this.discoveries.push(discovery);
      await discovery.start();
    }
    for (const balancer of this.balancers.values()) balancer.startHealthChecks();
  }

  /** The facade for `name`; UnknownDatabaseError for a name that is not configured. */
  db(name: string): Database {
    const found = this.facades.get(name);
    if (!found) throw new UnknownDatabaseError(name, this.names);
    return found;
  }

  balancer(name: string): LoadBalancer {
    const found = this.balancers.get(name);
    if (!found) throw new UnknownDatabaseError(name, this.names);
    return found;
  }

  /** `wal_locations` + `wal_location_sources` for a job enqueued now from the current context. */
  stamp(): Promise<WalStamp> {
    return stampWalLocations(this.balancers.values(), this.sessions);
  }

  /** Where a job runs; `walLocations` is `dedup_wal_locations ?? wal_locations` from the payload. */
  decide(input: { dataConsistency: DataConsistency; retried: boolean; walLocations: Readonly<Record<string, unknown>> | undefined }): Promise<Decision<ReplicaRoute>> {
    return decideLoadBalancing<ReplicaRoute>({ ...this.hostChecks, dataConsistency: input.dataConsistency, retried: input.retried, walLocations: input.walLocations });
  }

  /** Run a job body in its own context with each database's reads pinned to the decision's host (or the primary). */
  runJob<T>(decision: Decision<ReplicaRoute>, fn: () => Promise<T>): Promise<T> {
    const pinned: Record<string, ReplicaRoute> = {};
    for (const [database, balancer] of this.balancers) pinned[database] = decision.hosts[database] ?? { host: balancer.primary, incarnation: undefined };
    return this.sessions.run(fn, pinned);
  }

  async close(): Promise<void> {
    for (const discovery of this.discoveries) discovery.stop();
    await Promise.all([...this.balancers.values()].map((balancer) => balancer.close()));
    this.sessions.close();
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
