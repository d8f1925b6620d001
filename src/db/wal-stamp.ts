import type { LoadBalancer } from './load-balancer.js';
import { formatLsn, maxLsn, type Lsn } from './lsn.js';
import type { DbSessions } from './session.js';

export type WalLocationSource = 'primary' | 'replica';

export interface WalStamp {
  /** `wal_locations` for the payload: `{ db: "HI/LO" }`. */
  walLocations: Record<string, string>;
  walLocationSources: Record<string, WalLocationSource>;
}

/**
 * The WAL position each database's data must have for a job enqueued now (DESIGN §6):
 * - the context wrote to the primary ⇒ the primary's `pg_current_wal_insert_lsn()`, read now;
 * - it only read from replicas ⇒ the highest of their replay positions, read now (a fresh query, never the
 *   cache: the stamp must cover everything this context may already have seen);
 * - no context, or nothing done with that database ⇒ the primary's position.
 * Call it after COMMIT (hold enqueues with `sessions.afterCommit`): inside an open transaction the
 * primary's position is before the commit record, which is too early. An unreachable primary throws
 * DatabaseUnavailableError: better a failed enqueue than a job without the guarantee.
 */
export async function stampWalLocations(balancers: Iterable<LoadBalancer>, sessions: DbSessions): Promise<WalStamp> {
  const inContext = sessions.inContext();
  const results = await Promise.all(
    [...balancers].map(async (balancer): Promise<[string, Lsn, WalLocationSource]> => {
      const entry = inContext ? sessions.entry(balancer.database) : undefined;
      if (entry && !entry.wrote && entry.replicasRead.size > 0) {
        try {
          const positions = await Promise.all([...entry.replicasRead].map((host) => balancer.replayLocation(host)));
          return [balancer.database, maxLsn(positions[0]!, ...positions.slice(1)), 'replica'];
        } catch {
          // The replica went away since the read; the primary's position is always at least as new.
        }
      }
      return [balancer.database, await balancer.currentWalLocation(), 'primary'];
    }),
  );
  const stamp: WalStamp = { walLocations: {}, walLocationSources: {} };
  for (const [database, lsn, source] of results) {
    stamp.walLocations[database] = formatLsn(lsn);
    stamp.walLocationSources[database] = source;
  }
  return stamp;
}
