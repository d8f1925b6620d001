import { Counter, type Registry } from 'prom-client';

/** Cron metrics of one app, on the app's registry. */
export class CronMetrics {
  /** Ticks this process claimed, by what came of them: enqueued, paused (passed without a job) or failed. */
  readonly ticks: Counter<'schedule' | 'outcome'>;

  constructor(registry: Registry) {
    this.ticks = new Counter({ name: 'lagless_cron_ticks_total', help: 'Cron ticks claimed by this process, by outcome (enqueued, paused, failed)', labelNames: ['schedule', 'outcome'], registers: [registry] });
  }
}
