import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from '../../src/observability/series-metrics.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
/** Values on, between, below and above the bounds, and label values that need escaping in the exposition. */
const OBSERVATIONS: [Record<'queue' | 'worker', string>, number][] = [
  [{ queue: 'default', worker: 'A' }, 0.001],
  [{ queue: 'default', worker: 'A' }, 0.0005],
  [{ queue: 'default', worker: 'A' }, 0.05],
  [{ queue: 'default', worker: 'A' }, 5],
  [{ queue: 'default', worker: 'B' }, 0.2],
  [{ queue: 'we"ird\\q\nname', worker: 'A' }, 0.01],
  // Back to a series counted into before, after others: a series is found again whatever came between.
  [{ queue: 'default', worker: 'A' }, 0.02],
  [{ queue: 'default', worker: 'B' }, 0.02],
];

/** The same observations through prom-client's own metric and ours, each on a registry of its own. */
async function exposition(build: (registry: Registry) => (labels: Record<'queue' | 'worker', string>, value: number) => void): Promise<string> {
  const registry = new Registry();
  const record = build(registry);
  for (const [labels, value] of OBSERVATIONS) record(labels, value);
  return registry.metrics();
}

describe('series metrics', () => {
  it('a histogram prints exactly what prom-client prints for the same observations', async () => {
    const theirs = await exposition((registry) => {
      const histogram = new Histogram({ name: 'job_seconds', help: 'Time', labelNames: ['queue', 'worker'], buckets: BOUNDS, registers: [registry] });
      return (labels, value) => histogram.observe(labels, value);
    });
    const ours = await exposition((registry) => {
      const histogram = new SeriesHistogram('job_seconds', 'Time', ['queue', 'worker'], registry, BOUNDS);
      return (labels, value) => histogram.observe(labels, value);
    });
    expect(ours).toBe(theirs);
    expect(ours).toContain('job_seconds_bucket{le="0.001",queue="default",worker="A"} 2');
  });

  it('a counter prints exactly what prom-client prints, increments by more than one included', async () => {
    const theirs = await exposition((registry) => {
      const counter = new Counter({ name: 'jobs_total', help: 'Jobs', labelNames: ['queue', 'worker'], registers: [registry] });
      return (labels, value) => counter.inc(labels, value > 1 ? 3 : 1);
    });
    const ours = await exposition((registry) => {
      const counter = new SeriesCounter('jobs_total', 'Jobs', ['queue', 'worker'], registry);
      return (labels, value) => counter.inc(labels, value > 1 ? 3 : 1);
    });
    expect(ours).toBe(theirs);
    expect(ours).toContain('jobs_total{queue="default",worker="A"} 7');
  });

  it('reads as JSON and resets through the registry like prom-client metrics; a second metric of the same name is refused', async () => {
    const registry = new Registry();
    const counter = new SeriesCounter('jobs_total', 'Jobs', ['queue'], registry);
    counter.inc({ queue: 'a' });
    expect(await registry.getMetricsAsJSON()).toEqual([{ name: 'jobs_total', help: 'Jobs', type: 'counter', aggregator: 'sum', values: [{ labels: { queue: 'a' }, value: 1 }] }]);
    registry.resetMetrics();
    expect((await counter.get()).values).toEqual([]);
    counter.inc({ queue: 'a' });
    expect((await counter.get()).values).toEqual([{ labels: { queue: 'a' }, value: 1 }]);
    expect(() => new SeriesCounter('jobs_total', 'Jobs', ['queue'], registry)).toThrow(/already been registered/);
  });
});
