import { Counter, Gauge, type Registry } from 'prom-client';
import { SeriesCounter } from '../observability/series-metrics.js';

/**
 * Flag metrics on a caller-provided Registry. Several Flags instances may share one registry (tests, or an
 * app with two environments), so metrics are created once per registry and the snapshot-age gauge reports
 * the oldest snapshot among the instances that registered a source.
 */
export interface FlagMetrics {
  /** Counted on every check (one per idempotent enqueue), so a cheap series counter. */
  readonly evaluations: SeriesCounter<'flag' | 'result'>;
  readonly changes: Counter<'action'>;
  readonly reloadFailures: Counter;
  /** Register a function returning seconds since the last successful load (Infinity before any); returns an unregister. */
  addAgeSource(ageSeconds: () => number): () => void;
}

const byRegistry = new WeakMap<Registry, FlagMetrics>();

export function flagMetrics(registry: Registry): FlagMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const sources = new Set<() => number>();
  const metrics: FlagMetrics = {
    // Labels stay bounded: flag names come from definitions, never one label per actor.
    evaluations: new SeriesCounter('lagless_feature_flag_evaluations_total', 'Feature flag evaluations by flag and result (on, off, error).', ['flag', 'result'], registry),
    changes: new Counter({ name: 'lagless_feature_flag_changes_total', help: 'Feature flag changes written by this process.', labelNames: ['action'], registers: [registry] }),
    reloadFailures: new Counter({
      name: 'lagless_feature_flag_snapshot_reload_failures_total',
      help: 'Snapshot reloads that failed (flag storage unreachable); evaluation kept the previous snapshot.',
      registers: [registry],
    }),
    addAgeSource(source) {
      sources.add(source);
      return () => sources.delete(source);
    },
  };
  new Gauge({
    name: 'lagless_feature_flag_snapshot_age_seconds',
    help: 'Seconds since the flag snapshot was last loaded (+Inf before the first load). Grows while storage is unreachable.',
    registers: [registry],
    collect() {
      let oldest = 0;
      for (const source of sources) oldest = Math.max(oldest, source());
      this.set(sources.size === 0 ? 0 : oldest);
    },
  });
  byRegistry.set(registry, metrics);
  return metrics;
}
