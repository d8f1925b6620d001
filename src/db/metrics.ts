import { Counter, Gauge, type Registry } from 'prom-client';
import { SeriesCounter } from '../observability/series-metrics.js';

/** The load balancer's metrics; created once per registry and shared by every database's hosts. */
export interface DbMetrics {
  /** result: caught_up | behind | no_replica; source: cache (no query) | query. */
  readonly caughtUpChecks: SeriesCounter<'result' | 'source'>;
  readonly replicaLagBytes: Gauge<'database' | 'host'>;
  readonly replicaLagSeconds: Gauge<'database' | 'host'>;
  readonly replicaOnline: Gauge<'database' | 'host'>;
  /** A replica address answered from another standby incarnation (restart, crash, another server). */
  readonly incarnationChanges: Counter<'database' | 'host'>;
  /** reason: incarnation_changed | left_recovery | went_backwards | offline. */
  readonly cacheDrops: Counter<'database' | 'host' | 'reason'>;
  /** A replica was found out of recovery (promoted) and taken out of rotation. */
  readonly leftRecovery: Counter<'database' | 'host'>;
  /** Incremented by the execution middleware, which knows the worker: one per job execution. */
  readonly decisions: SeriesCounter<'worker' | 'data_consistency' | 'strategy'>;
}

export function createDbMetrics(registry: Registry): DbMetrics {
  // Reuse what is already registered, so two apps (or tests) sharing a registry do not collide.
  function counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
  }
  /** A counter of every job execution: a cheap series counter (see observability/series-metrics.ts). */
  function perJob<L extends string>(name: string, help: string, labelNames: L[]): SeriesCounter<L> {
    return (registry.getSingleMetric(name) as unknown as SeriesCounter<L> | undefined) ?? new SeriesCounter(name, help, labelNames, registry);
  }
  function gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return (registry.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [registry] });
  }
  return {
    caughtUpChecks: perJob('lagless_lb_caught_up_checks_total', 'Replica caught-up checks, by result and whether the cached replay LSN answered', ['result', 'source']),
    replicaLagBytes: gauge('lagless_replica_lag_bytes', 'WAL bytes between the primary and what the replica replayed', ['database', 'host']),
    replicaLagSeconds: gauge('lagless_replica_lag_seconds', 'Seconds since the last transaction the replica replayed was committed', ['database', 'host']),
    decisions: perJob('lagless_lb_decisions_total', 'Load-balancing decisions at job execution, by worker, data consistency and strategy', ['worker', 'data_consistency', 'strategy']),
    replicaOnline: gauge('lagless_replica_online', '1 when the replica is reachable and within its lag limits', ['database', 'host']),
    incarnationChanges: counter('lagless_replica_incarnation_changes_total', 'Times a replica address answered from another standby incarnation (restart, crash, replaced server)', ['database', 'host']),
    cacheDrops: counter('lagless_replica_cache_drops_total', 'Cached replay positions dropped, by reason', ['database', 'host', 'reason']),
    leftRecovery: counter('lagless_replica_left_recovery_total', 'Replicas found out of recovery (promoted) and taken out of rotation', ['database', 'host']),
  };
}
