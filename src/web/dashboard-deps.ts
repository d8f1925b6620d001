import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ScheduleStatus } from '../cron/schedules.js';
import type { Databases } from '../db/databases.js';
import type { Flags } from '../flags/flags.js';
import type { WorkerDefinition } from '../jobs/worker.js';
import type { JobStore } from '../store/job-store.js';

/** What the flags page uses of `app.flags`: the same methods the CLI's `feature` commands call. */
export type DashboardFlags = Pick<Flags, 'environment' | 'definitions' | 'list' | 'get' | 'set' | 'history'> & {
  /** Environments writes may target; just `environment` when the app does not say. */
  readonly environments?: readonly string[];
};

/**
 * What the dashboard reads of a lagless app. Structural, so src/web never imports app.ts (which creates the
 * dashboard): no import cycle, and tests can pass a partial app.
 */
export interface DashboardApp {
  readonly store: JobStore;
  readonly metrics: Registry;
  readonly logger?: Logger;
  /** undefined until `databases` is configured: the databases page then says how to configure it. */
  readonly databases: Databases | undefined;
  /** Absent until flags are configured: the flags page then says so. */
  readonly flags?: DashboardFlags | undefined;
  workers(): WorkerDefinition[];
  /** Cron schedules (the Cron page); absent on an app without them. */
  schedules?(): Promise<ScheduleStatus[]>;
  pauseSchedule?(name: string): Promise<void>;
  resumeSchedule?(name: string): Promise<void>;
}
