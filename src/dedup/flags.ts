/**
 * The slice of the flag system the middlewares need (`app.flags` fits). Evaluation is in memory; it throws
 * only for an undefined flag in development/test, and defineWorker checks the flags a worker names up front.
 */
export interface FlagCheck {
  enabled(name: string): boolean;
}

export const PRESERVE_LATEST_WAL_FLAG = 'preserve_latest_wal_locations_for_idempotent_jobs';
