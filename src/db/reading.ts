import { parseLsn, type Lsn } from './lsn.js';

/**
 * What one status query learns about a server. `incarnation` names one run of one server: the cluster's system
 * identifier (another server or a fresh base copy from elsewhere differs) and the postmaster start time (a
 * restart, crash or a base copy started at the same address differs). Promotion keeps both, which is why
 * `inRecovery` is read with them.
 */
export interface StatusReading {
  incarnation: string;
  /** `pg_postmaster_start_time()`, for logs and the Databases page. */
  startedAt: string;
  inRecovery: boolean;
  /** `pg_last_wal_replay_lsn()`; undefined on a server that never replayed WAL (not a standby). */
  replayLsn: Lsn | undefined;
  /** Seconds since the last replayed transaction committed on the primary (grows while the primary is idle). */
  lagSeconds: number | undefined;
}

/**
 * One round trip, sent on every new replica connection (its incarnation proof) and by every caught-up refresh
 * and health check. The LSN and the incarnation come from the same statement, so the position is known to
 * belong to that incarnation.
 */
export const STATUS_SQL = `select pg_last_wal_replay_lsn()::text as replay_lsn,
  extract(epoch from (clock_timestamp() - pg_last_xact_replay_timestamp()))::float8 as lag_seconds,
  pg_is_in_recovery() as in_recovery,
  pg_postmaster_start_time()::text as started_at,
  (select system_identifier::text from pg_control_system()) as system_id`;

export interface StatusRow {
  replay_lsn: string | null;
  lag_seconds: number | null;
  in_recovery: boolean | null;
  started_at: string | null;
  system_id: string | null;
}

export function parseReading(row: StatusRow | undefined, label: string): StatusReading {
  if (!row?.started_at) throw new Error(`${label} answered the status query without pg_postmaster_start_time()`);
  return {
    incarnation: `${row.system_id ?? '?'}@${row.started_at}`,
    startedAt: row.started_at,
    inRecovery: row.in_recovery !== false,
    replayLsn: row.replay_lsn ? parseLsn(row.replay_lsn, `pg_last_wal_replay_lsn() on ${label}`) : undefined,
    lagSeconds: row.lag_seconds ?? undefined,
  };
}
