import type { DashboardApp } from './dashboard-deps.js';
import { Dashboard } from './dashboard.js';
import { resolveDashboardOptions, type DashboardOptions } from './options.js';

/**
 * `app.dashboard`, created on first use: an app that never serves it starts no sampling. Its options are
 * checked at once, so a bad token fails createLagless rather than the first request.
 */
export class AppDashboard {
  private dashboard: Dashboard | undefined;

  constructor(
    private readonly options: DashboardOptions | undefined,
    private readonly clock: { now: () => number },
  ) {
    resolveDashboardOptions(options);
  }

  get(app: DashboardApp): Dashboard {
    this.dashboard ??= new Dashboard(app, this.options, this.clock);
    return this.dashboard;
  }

  close(): void {
    this.dashboard?.close();
  }
}
