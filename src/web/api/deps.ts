import type { DashboardAuth } from '../auth.js';
import type { DashboardApp } from '../dashboard-deps.js';
import type { Sampler } from '../sampler.js';
import type { SseHub } from '../sse.js';

/** What the API handlers share; built once by the Dashboard. */
export interface ApiDeps {
  readonly app: DashboardApp;
  readonly sampler: Sampler;
  readonly hub: SseHub;
  readonly auth: DashboardAuth;
  readonly now: () => number;
  /** One log line per change made through the dashboard (who, what), next to the flag audit trail. */
  audit(event: string, fields: Record<string, unknown>): void;
}
