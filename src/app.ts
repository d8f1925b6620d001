import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { EnqueueContext } from './client/enqueue-context.js';
import { Enqueuer } from './client/enqueuer.js';
import { QueueControl } from './client/queue-control.js';
import type { AppFlagsConfig } from './config/flags-config.js';
import { validateConfig } from './config/schema.js';
import { CronMetrics } from './cron/cron-metrics.js';
import type { ScheduleDefinition, ScheduleOptions } from './cron/schedule-definition.js';
import { Scheduler } from './cron/scheduler.js';
import { Schedules, type ScheduleStatus } from './cron/schedules.js';
import { AppDatabases } from './db/app-databases.js';
import { loadBalancingClientMiddleware } from './db/client-middleware.js';
import type { Database } from './db/database.js';
import type { DatabaseConfig, Databases } from './db/databases.js';
import { loadBalancingServerMiddleware } from './db/server-middleware.js';
import { dedupClientMiddleware } from './dedup/client-middleware.js';
import { InvalidOptionError, UnknownWorkerError } from './errors.js';
import { createAppFlags } from './flags/app-flags.js';
import type { Flags } from './flags/flags.js';
import type { MigrateResult } from './flags/migrate.js';
import { checkWorkerFlags } from './flags/worker-flags.js';
import { retryPolicy } from './jobs/retry.js';
import type { EnqueueResult, Worker, WorkerDefinition, WorkerOptions } from './jobs/worker.js';
import { validateWorkerOptions } from './jobs/worker-options.js';
import { MiddlewareChain } from './middleware/chain.js';
import { flushLogger, resolveLogger } from './observability/logger.js';
import { JobMetrics } from './observability/metrics.js';
import type { RedisTarget } from './redis/connection.js';
import { RedisJobStore } from './redis/redis-store.js';
import { PartitionedStore } from './redis/partitioned-store.js';
import type { ExecutionContext } from './server/execution-context.js';
import { WorkerRuntime, type WorkerRuntimeOptions } from './server/worker-runtime.js';
import type { JobStore } from './store/job-store.js';
import { MemoryJobStore } from './store/memory-store.js';
import { JobEvents } from './results/job-events.js';
import { createJobsApi, type JobsApi } from './results/jobs-api.js';
import { AppDashboard } from './web/lazy-dashboard.js';
import type { Dashboard } from './web/dashboard.js';
import type { DashboardOptions } from './web/options.js';

export interface LaglessConfig {
  /** Omit for the in-memory store (single process: the embedded default and a testing mode). */
  /**
   * `enqueueTimeoutMs` bounds an enqueue and `commandTimeoutMs` every other store call (default 5 s each),
   * including the time to reconnect; past it they reject with StoreUnavailableError (nothing written) or
   * EnqueueOutcomeUnknownError (the reply was lost). Exactly one of `url`, `cluster: { nodes, options }` (Redis
   * Cluster) or `sentinels` + `name` (Redis Sentinel). `durableEnqueue: { replicas, timeoutMs }` makes an enqueue
   * wait for WAIT to confirm its write on that many replicas, else reject with EnqueueNotReplicatedError.
   */
  redis?: RedisTarget & { prefix?: string; enqueueTimeoutMs?: number; commandTimeoutMs?: number; durableEnqueue?: { replicas: number; timeoutMs: number } };
  /** Named PostgreSQL databases (primary + replicas) for `app.db(name)`, `ctx.db(name)` and replica-aware execution. */
  databases?: Record<string, DatabaseConfig>;
  /** Feature flags (DESIGN §7): stored in `databases[flags.database ?? 'main']`, in memory without `databases`. */
  flags?: AppFlagsConfig;
  /**
   * A pino logger; by default `laglessLogger()`: JSON lines on stdout, written in buffered chunks and flushed on
   * stop, exit and SIGTERM/SIGINT/SIGHUP; `false` silences lagless.
   */
  logger?: Logger | false;
  /** Injectable clock: wall time for stored timestamps, monotonic time for durations and leases. */
  clock?: { now(): number; monotonic?(): number };
  /** `app.dashboard` options: token or authorize function for changes, read-only, /metrics (README, Dashboard). */
  dashboard?: DashboardOptions;
  /**
   * Log a `start` line when each job starts, besides the line when it ends (`done`, `fail`, `snoozed`), which
   * carries every field of the start line plus the duration. Default false: see README, Logs.
   */
  logJobStart?: boolean;
  /**
   * Per-queue settings. `partitions: N` (Redis only; ignored by the in-memory store) splits a queue into N full sets
   * of its keys, each in its own slot, so one hot queue spreads over the masters of a Redis Cluster (README,
   * Partitioned queues). Every process of the app should use the same N; changing it strands no job.
   */
  queues?: Record<string, { partitions?: number }>;
}

export interface LaglessApp {
  defineWorker<Args>(options: WorkerOptions<Args>): Worker<Args>;
  worker(options: WorkerRuntimeOptions): WorkerRuntime;
  findWorker(name: string): WorkerDefinition | undefined;
  workers(): WorkerDefinition[];
  /** Enqueue by worker name (CLI, dashboards); throws UnknownWorkerError for a name never defined. */
  enqueue(workerName: string, args: unknown): Promise<EnqueueResult>;
  /** A configured database: reads go to a replica that has what this context wrote; UnknownDatabaseError otherwise. */
  db(name: string): Database;
  /** The configured databases (load balancers, sessions, metrics), started on first use; undefined without `databases`. */
  readonly databases: Databases | undefined;
  /** Feature flags: `enabled()` answers from an in-memory snapshot; writes are audited and reach every process within a second. */
  readonly flags: Flags;
  /** Creates or upgrades lagless's tables (the flag tables) on the flags database's primary; same as `lagless migrate`. */
  migrate(): Promise<MigrateResult>;
  readonly store: JobStore;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly clientMiddleware: MiddlewareChain<EnqueueContext, EnqueueResult>;
  readonly serverMiddleware: MiddlewareChain<ExecutionContext, unknown>;
  /** The web dashboard; mount `app.dashboard.handler` in node:http, Express or Fastify. */
  readonly dashboard: Dashboard;
  /** Stops every worker started from this app, then closes store connections. */
  close(): Promise<void>;
  /** Pause and resume queues for every worker process (`lagless queues pause|resume`, the dashboard). */
  readonly queues: QueueControl;
  /** A job's state, result and progress by jid, and waiting for it to finish (README, Job results). */
  readonly jobs: JobsApi;
  /** 'completed' (keepResult workers), 'failed' and 'dead' events from every process on the store. */
  readonly events: JobEvents;
  /**
   * A cron schedule: enqueue `worker` with `args` at every tick of `cron` (README, Cron schedules). Fired by every
   * running `app.worker(...)` (unless `schedules: false`); each tick is enqueued once however many run it.
   */
  schedule<Args>(name: string, options: ScheduleOptions<Args>): ScheduleDefinition;
  /** Schedules with their next run, last run, last jid and pause state (what `lagless cron list` prints). */
  schedules(): Promise<ScheduleStatus[]>;
  /** Pause or resume a schedule by name, in the store: every process stops or resumes firing it. */
  pauseSchedule(name: string): Promise<void>;
  resumeSchedule(name: string): Promise<void>;
}

export function createLagless(config: LaglessConfig = {}): LaglessApp {
  validateConfig(config);
  const logger = resolveLogger(config.logger);
  const now = config.clock ? () => config.clock!.now() : Date.now;
  const dashboard = new AppDashboard(config.dashboard, { now });
  const monotonic = config.clock?.monotonic ? () => config.clock!.monotonic!() : () => performance.now();
  const registry = new Registry();
  const metrics = new JobMetrics(registry);
  const redisStore = config.redis
    ? new RedisJobStore({
        ...config.redis,
        onConnectionEvent: (event, detail) => (event === 'lost' ? logger.error({ event: 'redis_connection_lost' }, detail) : logger.info({ event: 'redis_connection_restored' }, detail)),
      })
    : undefined;
  const store: JobStore = redisStore ? new PartitionedStore(redisStore, partitionCounts(config.queues)) : new MemoryJobStore();

  const definitions = new Map<string, WorkerDefinition>();
  const runtimes = new Set<WorkerRuntime>();
  const clientMiddleware = new MiddlewareChain<EnqueueContext, EnqueueResult>().add('deduplication', dedupClientMiddleware({ logger, metrics, flags: () => flags, now }));
  const serverMiddleware = new MiddlewareChain<ExecutionContext, unknown>();
  const databases = new AppDatabases(config.databases, { registry, logger });
  const appFlags = createAppFlags(config.flags, {
    databases: databases.get(),
    redis: redisStore ? { client: redisStore.client, prefix: config.redis?.prefix ?? 'lagless' } : undefined,
    logger,
    registry,
    releaseOnFailure: () => Promise.all([store.close(), databases.close()]),
  });
  const flags = appFlags.flags;
  clientMiddleware.insertBefore('deduplication', 'load_balancing', loadBalancingClientMiddleware({ databases: () => databases.get(), flags: () => flags }));
  serverMiddleware.add('load_balancing', loadBalancingServerMiddleware({ databases: () => databases.get(), flags: () => flags }));
  const enqueuer = new Enqueuer(store, clientMiddleware, { now }, metrics);
  const events = new JobEvents(store, logger);
  const jobs = createJobsApi({ store, events, findWorker: (name) => definitions.get(name), workers: () => [...definitions.values()], now });
  const schedules = new Schedules((name) => definitions.get(name));
  const cronMetrics = new CronMetrics(registry);

  function defineWorker<Args>(options: WorkerOptions<Args>): Worker<Args> {
    validateWorkerOptions(options);
    checkWorkerFlags(options, flags);
    if (definitions.has(options.name)) throw new InvalidOptionError(`A worker named '${options.name}' is already defined; worker names are stored in payloads and must be unique.`);
    // Validated before the worker is stored, so a bad schedule leaves nothing half-defined.
    const schedule = options.schedule ? schedules.check(options.name, { ...options.schedule, worker: options.name }) : undefined;
    const definition: WorkerDefinition<Args> = { name: options.name, queue: options.queue ?? 'default', options, retry: retryPolicy(options.retry) };
    const erased = definition as WorkerDefinition;
    definitions.set(options.name, erased);
    if (schedule) schedules.add(schedule);
    return {
      ...definition,
      enqueue: (args) => enqueuer.enqueue(erased, args),
      enqueueIn: (delayMs, args) => {
        if (!Number.isFinite(delayMs) || delayMs < 0) throw new InvalidOptionError(`enqueueIn delay for '${options.name}' must be a number of ms >= 0; got ${delayMs}.`);
        return enqueuer.enqueue(erased, args, now() + delayMs);
      },
      enqueueAt: (at, args) => enqueuer.enqueue(erased, args, at instanceof Date ? at.getTime() : Number.NaN),
      enqueueMany: (argsList) => enqueuer.enqueueMany(erased, argsList),
    };
  }

  return {
    defineWorker,
    worker(options) {
      const deps = { chain: serverMiddleware, metrics, findWorker: (name: string) => definitions.get(name), now, monotonic, db: (name: string) => databases.db(name), logJobStart: config.logJobStart ?? false };
      const scheduler =
        options.schedules === false
          ? undefined
          : new Scheduler({ store, schedules, enqueue: (schedule, tickMs) => enqueuer.enqueueTick(definitions.get(schedule.worker)!, schedule.args, { schedule: schedule.name, tickMs }), logger, metrics: cronMetrics, now }, options.scheduleCheckMs ?? 1000, options.scheduleLeaseMs ?? 60_000);
      const runtime = new WorkerRuntime(store, logger, deps, options, scheduler);
      runtimes.add(runtime);
      return runtime;
    },
    findWorker: (name) => definitions.get(name),
    workers: () => [...definitions.values()],
    async enqueue(workerName, args) {
      const worker = definitions.get(workerName);
      if (!worker) throw new UnknownWorkerError(workerName);
      return enqueuer.enqueue(worker, args);
    },
    db: (name) => databases.db(name),
    get databases() {
      return databases.get();
    },
    flags,
    migrate: () => appFlags.migrate(),
    store,
    logger,
    metrics: registry,
    clientMiddleware,
    serverMiddleware,
    get dashboard() {
      return dashboard.get(this);
    },
    jobs,
    events,
    schedule: (name, options) => schedules.define(name, options),
    schedules: () => schedules.status(store, now()),
    pauseSchedule: (name) => schedules.setPaused(store, name, true, now()),
    resumeSchedule: (name) => schedules.setPaused(store, name, false, now()),
    async close() {
      dashboard.close();
      await Promise.all([...runtimes].map((runtime) => runtime.stop()));
      await events.close();
      await appFlags.close();
      await store.close();
      await databases.close();
      await flushLogger(logger);
    },
    queues: new QueueControl(store, logger, now),
  };
}

/** `queues: { q: { partitions: N } }` → { q: N }, for the partition router. */
function partitionCounts(queues: LaglessConfig['queues']): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [queue, settings] of Object.entries(queues ?? {})) if (settings.partitions !== undefined) counts[queue] = settings.partitions;
  return counts;
}
