import { InvalidLsnError } from '../errors.js';
import type { DataConsistency, LoadBalancingStrategy } from '../jobs/payload.js';
import { parseLsn, type Lsn } from './lsn.js';

export type { DataConsistency, LoadBalancingStrategy };

export interface DecisionInput<H> {
  /** As resolved for this job; 'always' (or a consistency flag that is off) means not load balanced. */
  dataConsistency: DataConsistency;
  /** This execution is a retry (the job was re-queued by a previous `retry` decision or a failure). */
  retried: boolean;
  /** `dedup_wal_locations ?? wal_locations` from the payload; values are untrusted strings. */
  walLocations: Readonly<Record<string, unknown>> | undefined;
  /** Configured database names; map entries for other names are ignored (no host could serve them). */
  databases: readonly string[];
  /** A replica of `database` that has replayed `lsn`, or undefined (LoadBalancer.caughtUp). */
  caughtUp(database: string, lsn: Lsn): Promise<H | undefined>;
  /** The same answer from cached replay positions only, without I/O; undefined when the cache cannot prove it. */
  caughtUpCached?(database: string, lsn: Lsn): H | undefined;
  /** Any online replica, for a database the map does not mention (it counts as in sync). */
  anyReplica(database: string): H | undefined;
  /** Whether `database` has any replica online; with none, waiting cannot help and the job runs on the primary at once. */
  hasReplica?(database: string): boolean;
  /** How long to wait for lagging replicas before giving up (default 250 ms) and how often to re-check. */
  maxWaitMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface Decision<H> {
  strategy: LoadBalancingStrategy;
  /** Per configured database: the replica to read from, or undefined for the primary. */
  hosts: Record<string, H | undefined>;
  /** Why the job runs on the primary when that is not the plain answer (invalid LSN: log it as a warning). */
  reason?: string;
}

/**
 * Decide where a job runs (DESIGN §6). Pure apart from the injected checker and clock. Re-checks during
 * the bounded wait go through the checker, i.e. the per-host cache and shared in-flight refresh, so many
 * waiting jobs cost about one query per host per poll rather than one per job.
 */
export async function decideLoadBalancing<H>(input: DecisionInput<H>): Promise<Decision<H>> {
  const primaryEverywhere = (): Record<string, H | undefined> => Object.fromEntries(input.databases.map((db) => [db, undefined]));
  if (input.dataConsistency === 'always') return { strategy: 'primary', hosts: primaryEverywhere() };
  const needed = new Map<string, Lsn>();
  const wal = input.walLocations;
  for (const db of wal ? input.databases : []) {
    if (!Object.hasOwn(wal!, db)) continue;
    try {
      needed.set(db, parseLsn(wal![db], `payload wal_locations.${db}`));
    } catch (error) {
      if (!(error instanceof InvalidLsnError)) throw error;
      return { strategy: 'primary', hosts: primaryEverywhere(), reason: error.message };
    }
  }
  if (needed.size === 0) return { strategy: 'primary_no_wal', hosts: primaryEverywhere() };

  // `replica_retried` is the label of a `delayed` job that was re-queued before (GitLab's, and the README's); a
  // sticky job retried after a failure that finds a caught-up replica is plain `replica`.
  const replicaStrategy = input.retried && input.dataConsistency === 'delayed' ? 'replica_retried' : 'replica';
  const onReplicas = (chosen: (H | undefined)[]): Decision<H> => {
    const hosts: Record<string, H | undefined> = {};
    for (const db of input.databases) hosts[db] = input.anyReplica(db);
    [...needed.keys()].forEach((db, i) => (hosts[db] = chosen[i]));
    return { strategy: replicaStrategy, hosts };
  };
  // No replica online for some database: neither a wait nor a re-queue can help, so decide now.
  const noReplica = (): boolean => input.hasReplica !== undefined && [...needed.keys()].some((db) => !input.hasReplica!(db));
  // The common case on a healthy system: cached replay positions already prove it, with no timer and no I/O.
  const cached = input.caughtUpCached && [...needed].map(([db, lsn]) => input.caughtUpCached!(db, lsn));
  if (cached?.every((host) => host !== undefined)) return onReplicas(cached);
  if (noReplica()) return { strategy: 'primary', hosts: primaryEverywhere() };

  const { maxWaitMs = 250, pollMs = 25, sleep = defaultSleep, now = Date.now } = input;
  const deadline = now() + maxWaitMs;
  for (;;) {
    // A hung replica must not hold the job past the bounded wait: an unanswered round counts as behind.
    const round = Promise.all([...needed].map(([db, lsn]) => input.caughtUp(db, lsn)));
    const chosen = await settleWithin(round, Math.max(0, deadline - now()));
    if (chosen?.every((host) => host !== undefined)) return onReplicas(chosen);
    // Every replica of a database went offline during the wait (crash, hang): stop waiting, run on the primary.
    if (noReplica()) return { strategy: 'primary', hosts: primaryEverywhere() };
    if (now() >= deadline) break;
    await sleep(Math.min(pollMs, Math.max(0, deadline - now())));
  }
  if (input.dataConsistency === 'delayed' && !input.retried) return { strategy: 'retry', hosts: primaryEverywhere() };
  return { strategy: 'primary', hosts: primaryEverywhere() };
}

/** The promise's value, or undefined if it has not settled within `ms` (a real timer, also under a virtual clock). */
function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
