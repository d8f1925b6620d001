/**
 * Every error lagless raises on purpose is a LaglessError with a stable `code`, so callers can branch on
 * the code instead of parsing messages. Messages say what was wrong and how to fix it.
 */
export class LaglessError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Options passed to defineWorker / worker / createLagless that cannot work. */
export class InvalidOptionError extends LaglessError {
  constructor(message: string) {
    super('INVALID_OPTION', message);
  }
}

/** Job arguments that do not survive a JSON round trip. */
export class InvalidArgsError extends LaglessError {
  constructor(
    readonly workerName: string,
    readonly reason: string,
  ) {
    super('INVALID_ARGS', `Arguments for '${workerName}' are not JSON-serialisable: ${reason}. Pass plain objects, arrays, strings, finite numbers, booleans and null.`);
  }
}

export class UnknownWorkerError extends LaglessError {
  constructor(readonly workerName: string) {
    super('UNKNOWN_WORKER', `Worker '${workerName}' is not registered. Define it with app.defineWorker({ name: '${workerName}', ... }) in the module passed to --app.`);
  }
}

/** A payload read back from a store that is not a job lagless can run. */
export class MalformedPayloadError extends LaglessError {
  constructor(reason: string) {
    super('MALFORMED_PAYLOAD', `Stored payload is not a valid lagless job: ${reason}. The raw payload is kept in the dead set.`);
  }
}

/** A string that should be a PostgreSQL WAL position (`HI/LO` in hex) and is not. */
export class InvalidLsnError extends LaglessError {
  constructor(
    readonly value: string,
    readonly source: string,
  ) {
    super('INVALID_LSN', `"${value}" from ${source} is not a PostgreSQL LSN (expected HEX/HEX such as 16/B374D848).`);
  }
}

/** A database needed right now (usually the primary, to stamp a WAL position at enqueue) cannot be reached. */
export class DatabaseUnavailableError extends LaglessError {
  constructor(
    readonly database: string,
    readonly host: string,
    override readonly cause: unknown,
    /** The bound that applied (`connectTimeoutMs`, `statementTimeoutMs`) and its value: what to raise if the host is only slow. */
    readonly setting: { name: string; ms: number } = { name: 'connectTimeoutMs', ms: 2_000 },
    readonly during: 'enqueue' | 'query' = 'enqueue',
  ) {
    const what = during === 'enqueue' ? 'Nothing was enqueued; check the primary and retry.' : 'Check the primary and retry.';
    super(
      'DATABASE_UNAVAILABLE',
      `Database '${database}' primary at ${host} is unreachable (${cause instanceof Error ? cause.message : String(cause)}). ${what} Waits are bounded by databases.${database}.${setting.name} (${setting.ms} ms).`,
    );
  }
}

/**
 * A read was routed to a replica by a verdict about one incarnation of that standby, and the connection it got
 * talks to another (a restart, a crash, a promotion, another server at the address). The read goes to the
 * primary instead; callers of `ctx.db(name).pool` see this error from `connect()`.
 */
export class ReplicaChangedError extends LaglessError {
  constructor(
    readonly database: string,
    readonly host: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super('REPLICA_CHANGED', `Replica ${host} of database '${database}' is not the standby incarnation that was checked (checked ${expected}, connected to ${found}); read from the primary instead.`);
  }
}

/** `app.db(name)` / `ctx.db(name)` with a name that is not configured. */
export class UnknownDatabaseError extends LaglessError {
  constructor(
    readonly database: string,
    readonly known: readonly string[],
  ) {
    super('UNKNOWN_DATABASE', `Database '${database}' is not configured. Configured: ${known.map((name) => `'${name}'`).join(', ') || 'none'}. Add it under databases in the lagless config.`);
  }
}

/** The transaction committed, but some of the callbacks held until COMMIT (usually enqueues) failed. */
export class AfterCommitError extends LaglessError {
  constructor(
    readonly database: string,
    readonly errors: readonly unknown[],
  ) {
    super('AFTER_COMMIT_FAILED', `The transaction on '${database}' committed, but ${errors.length} callback(s) held until COMMIT failed: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}. The data is saved; re-run the failed enqueues.`);
  }
}

/** Redis could not be reached (or did not answer) before the call's deadline; the call had no effect. */
export class StoreUnavailableError extends LaglessError {
  constructor(
    readonly host: string,
    readonly timeoutMs: number,
    readonly setting: string,
    readonly reason: string,
  ) {
    super('STORE_UNAVAILABLE', `Redis at ${host} did not answer within ${timeoutMs} ms (${reason}). Nothing was written; check that Redis is running and reachable, or raise ${setting}.`);
  }
}

/**
 * `redis.durableEnqueue`: the push ran on the primary but WAIT did not see it on enough replicas in time. The job
 * is queued there, yet a failover now could lose it; the caller decides whether to retry (dedup makes that safe).
 */
export class EnqueueNotReplicatedError extends LaglessError {
  constructor(
    readonly jids: readonly string[],
    readonly host: string,
    readonly replicas: number,
    readonly acknowledged: number,
    readonly timeoutMs: number,
  ) {
    super('ENQUEUE_NOT_REPLICATED', `Redis at ${host} confirmed a push of ${jids.length === 1 ? `job ${jids[0]}` : `${jids.length} jobs`} on ${acknowledged} of the ${replicas} replicas redis.durableEnqueue asks for within ${timeoutMs} ms: it is queued on the primary but would be lost if the primary failed now. Check the replicas' health, or raise redis.durableEnqueue.timeoutMs.`);
  }
}

/**
 * A push reached Redis but its reply was lost and the deadline passed before lagless could settle it: the job
 * may or may not be queued. Look it up by `jid` before enqueueing again.
 */
export class EnqueueOutcomeUnknownError extends LaglessError {
  constructor(
    readonly jids: readonly string[],
    readonly host: string,
    readonly timeoutMs: number,
  ) {
    super('ENQUEUE_OUTCOME_UNKNOWN', `Redis at ${host} lost the reply to a push of ${jids.length === 1 ? `job ${jids[0]}` : `${jids.length} jobs (${jids.slice(0, 3).join(', ')}${jids.length > 3 ? ', ...' : ''})`} and did not come back within ${timeoutMs} ms: the job may or may not be queued. Look it up by jid before enqueueing again, or raise redis.enqueueTimeoutMs.`);
  }
}

/**
 * Redis refused one job's push (a key of its queue holding another type, maxmemory): that job is not queued, and
 * the jobs sent with it in the same call are untouched.
 */
export class PushRefusedError extends LaglessError {
  constructor(
    readonly jid: string,
    readonly reason: string,
  ) {
    super('PUSH_REFUSED', `Redis refused the push of job ${jid}: ${reason}. The job was not queued; fix what Redis reports and enqueue it again.`);
  }
}

/** `app.jobs.wait` found no such job: never enqueued, deleted, or finished without its worker keeping results. */
export class JobNotFoundError extends LaglessError {
  constructor(
    readonly jid: string,
    readonly queues: readonly string[],
  ) {
    super('JOB_NOT_FOUND', `No job '${jid}' in queue${queues.length === 1 ? '' : 's'} ${queues.map((q) => `'${q}'`).join(', ') || '(none)'}: it was never enqueued there, was deleted, or finished without its worker keeping results (set keepResult: { ttlMs } on the worker to wait for it).`);
  }
}

/** `app.jobs.wait` reached its deadline before the job completed or died. */
export class JobWaitTimeoutError extends LaglessError {
  constructor(
    readonly jid: string,
    readonly timeoutMs: number,
    readonly lastState: string,
  ) {
    super('JOB_WAIT_TIMEOUT', `Job '${jid}' did not finish within ${timeoutMs} ms (last seen ${lastState}); wait longer with { timeoutMs }, or look it up later with app.jobs.get.`);
  }
}

/** An attempt ran past its worker's `timeoutMs`: `ctx.signal` was aborted and the attempt failed (retried like any failure). */
export class JobTimeoutError extends LaglessError {
  constructor(
    readonly workerName: string,
    readonly timeoutMs: number,
  ) {
    super('JOB_TIMEOUT', `Job of '${workerName}' ran longer than its timeoutMs (${timeoutMs} ms) and was failed; stop work when ctx.signal aborts, or raise timeoutMs in defineWorker.`);
  }
}

/** A cron schedule name that the app does not define (`lagless cron pause`, the dashboard). */
export class UnknownScheduleError extends LaglessError {
  constructor(
    readonly scheduleName: string,
    readonly known: readonly string[],
  ) {
    super('UNKNOWN_SCHEDULE', `Schedule '${scheduleName}' is not defined by this app. Defined: ${known.map((name) => `'${name}'`).join(', ') || 'none'}. Define it with app.schedule('${scheduleName}', { cron, worker }) in the module passed to --app.`);
  }
}
