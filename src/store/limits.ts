/**
 * Concurrency and rate limits of a worker class, shared by every process on one store.
 *
 * The check happens after a fetch, before perform: the job is leased, and one atomic store step either grants it
 * (a slot and/or a start) or parks it at the tail of the class's deferred list, releasing its lease in the same
 * step. A parked job is not failed and uses no attempt. When a slot or a start frees, deferred jobs move back to
 * the head of the ready list, oldest first, each with its slot and start *reserved*, so a fresh job cannot take
 * them on the way and a deferred job is never parked twice for the same turn.
 *
 * Invariants (both stores; the conformance suite test/conformance/limits.suite.ts pins them):
 * - Slots: `running` holds the jids granted a slot; a member counts while the job holds a lease (it is in the
 *   queue's in-flight set), plus one per unexpired reservation. So a slot is tied to its lease: a worker that
 *   dies (SIGKILL) frees its slots when its leases are recovered, with no release call. A member whose lease is
 *   gone is dropped by a scan, run only when the raw count says "full" and at most once per STALE_SCAN_MS; until
 *   then it still counts, which errs on the safe side (fewer jobs run, never more).
 * - A slot holder whose lease expired and that is fetched again (recovered, or handed back at shutdown) keeps its
 *   slot: every grant since either counted it or dropped it, so it is never counted twice.
 * - Starts: every start is logged at the time it starts and stays in the log for `perMs`; a reservation counts as
 *   a start until it is used (then it is logged at its real start) or expires. |starts in the last perMs| +
 *   |reservations| <= max at all times, so no window of `perMs` ever sees more than `max` starts.
 * - FIFO per class: while jobs are deferred, a fresh job never starts ahead of them; it queues behind.
 * - A reservation lasts `reserveMs` (the worker's lease length): a promoted job that no worker fetches by then
 *   loses it, and takes its turn again like a fresh job.
 * - Limits are per (queue, worker class): a worker class has one queue, so in practice per class.
 * Limit: a job whose lease expired while its worker was stalled (not dead) may run twice at once, as any job may
 * under at-least-once delivery; the limit counts leases, not executions.
 */
export interface WorkerLimits {
  /** At most this many jobs of the class run at once across all processes. */
  concurrency?: number;
  /** At most `max` starts in any `perMs` window across all processes. */
  rate?: { max: number; perMs: number };
}

/** A full `running` set is scanned for members whose lease is gone at most this often per class. */
export const STALE_SCAN_MS = 1000;

export interface LimitAcquireParams {
  queue: string;
  /** The lease id of a job leased under `token`. */
  jid: string;
  token: string;
  workerClass: string;
  limits: WorkerLimits;
  nowMs: number;
  /** How long a reservation made for a promoted deferred job lasts (the lease length). */
  reserveMs: number;
  /** An until_executed cookie the job owns: a parked job is not executing, so twins are not counted as arriving "while it ran". */
  dedupKey?: string;
}

export type LimitAcquireResult =
  | { outcome: 'granted'; wakeAtMs?: number }
  /** Parked in the deferred list, its lease released; `reason` is the limit that holds the line. */
  | { outcome: 'deferred'; reason: 'concurrency' | 'rate'; wakeAtMs?: number }
  /** The lease is not held by `token` any more (recovered and handed to another worker): do nothing. */
  | { outcome: 'lost' };

export interface LimitReleaseParams {
  queue: string;
  workerClass: string;
  limits: WorkerLimits;
  nowMs: number;
  reserveMs: number;
  /** A job that was granted and is settled now (its slot frees unless another worker holds its lease now). */
  jid?: string;
  token?: string;
  /**
   * Hand the oldest deferred job whose turn came straight to `token`: leased for `leaseMs` and granted in this step
   * (its dedup cookie handled as a fetch would), instead of a trip through the ready list, a fetch and a check.
   * Never on a paused queue: there the jobs whose turn came go to the ready list, which the fetch passes over
   * until the queue is resumed (resume wakes the workers for them).
   */
  handOver?: { leaseMs: number };
}

export interface LimitReleaseResult {
  /** Deferred jobs moved on: back to the ready list with a reserved slot/start, or handed over. */
  promoted: number;
  /** The job handed over (see handOver): leased under the caller's token and already granted; run it. */
  handedOver?: { jid: string; raw: string };
  /**
   * Set when the rate limit holds deferred jobs back and this caller is the one to call limitRelease again at this
   * time (one wake-up per class at a time; a claim whose time passed is taken over). No polling otherwise.
   */
  wakeAtMs?: number;
}

export interface LimitUsage {
  workerClass: string;
  /** As the last worker that checked a job of the class had them (entries idle past LIMIT_ENTRY_TTL_MS are dropped). */
  limits: WorkerLimits;
  /** Jobs holding a slot with a live lease. */
  running: number;
  /** Deferred jobs moved back to the ready list with a slot/start reserved, not started yet. */
  reserved: number;
  /** Jobs waiting in the deferred list. */
  deferred: number;
  /** Starts in the current rate window (only with a rate limit). */
  startsInWindow: number;
  /** Jobs deferred since the class was first limited. */
  deferredTotal: number;
}

/**
 * A limited class's entry is kept while a worker checked one of its jobs within this long, or while it holds jobs
 * (deferred, running or reserved). An entry past it is dropped by the next limitList: a limit removed from the
 * code (or a class renamed) leaves no row behind, and a class still limited comes back with its next job.
 */
export const LIMIT_ENTRY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * `<concurrency>|<max>|<perMs>|<declared at ms>` with 0 for "none": how stores keep a class's limits, as declared
 * by the last check of one of its jobs (an entry written before the time was kept reads as declared at 0).
 */
export function encodeLimits(limits: WorkerLimits, declaredAtMs: number): string {
  return `${limits.concurrency ?? 0}|${limits.rate?.max ?? 0}|${limits.rate?.perMs ?? 0}|${declaredAtMs}`;
}

/** When an encoded entry was last declared (see encodeLimits). */
export function declaredAtOf(text: string): number {
  return Number(text.split('|')[3] ?? 0) || 0;
}

export function decodeLimits(text: string): WorkerLimits {
  const [concurrency, max, perMs] = text.split('|').map(Number);
  const limits: WorkerLimits = {};
  if (concurrency) limits.concurrency = concurrency;
  if (max && perMs) limits.rate = { max, perMs };
  return limits;
}
