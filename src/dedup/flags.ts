/** The slice of the flag system dedup needs; evaluation is in memory and never throws. */
export interface FlagCheck {
  enabled(name: string): boolean;
}

export const PRESERVE_LATEST_WAL_FLAG = 'preserve_latest_wal_locations_for_idempotent_jobs';

/** Before flags are configured every flag reads as its shipped default: off. */
export const FLAGS_OFF: FlagCheck = { enabled: () => false };
