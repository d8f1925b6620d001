// The public surface of lagless. Every export is listed by name; nothing else is part of the contract.
export { createLagless } from './app.js';
export { laglessLogger } from './observability/logger.js';
export type { LaglessLoggerOptions } from './observability/logger.js';
export type { LaglessApp, LaglessConfig } from './app.js';
export type { EnqueueResult, JobContext, Worker, WorkerOptions, WorkerDefinition, DeduplicateOptions } from './jobs/worker.js';
export type { JobPayload, WalLocations, DataConsistency, LoadBalancingStrategy } from './jobs/payload.js';
export { Snooze } from './jobs/snooze.js';
export { MiddlewareChain } from './middleware/chain.js';
export type { Middleware } from './middleware/chain.js';
export type { EnqueueContext } from './client/enqueue-context.js';
export type { ExecutionContext } from './server/execution-context.js';
export { WorkerRuntime } from './server/worker-runtime.js';
export type { WorkerRuntimeOptions } from './server/worker-runtime.js';
export type { QueueSpec } from './server/queue-order.js';
export { QueueControl } from './client/queue-control.js';
export type { PausedQueue } from './client/queue-control.js';
export type { JobStore, LeaseRenewResult, QueueRemoveResult, QueueSizes, QueueCounters, DedupCookie } from './store/job-store.js';
export type { JobFetchManyParams, FetchedQueueJob } from './store/job-store.js';
export { MemoryJobStore } from './store/memory-store.js';
export { RedisJobStore } from './redis/redis-store.js';
export { PartitionedStore } from './redis/partitioned-store.js';
export type { RedisJobStoreOptions } from './redis/redis-store.js';
export type { RedisTarget, RedisClusterConfig, RedisSentinelEndpoint, RedisClient } from './redis/connection.js';
export { idempotencyKey, idempotencyString } from './dedup/idempotency-key.js';
export { Databases } from './db/databases.js';
export type { DatabaseConfig } from './db/databases.js';
export { Database } from './db/database.js';
export type { QueryOptions } from './db/database.js';
export type { Queryable, PoolLike } from './db/queryable.js';
export type { AppFlagsConfig } from './config/flags-config.js';
export { Flags } from './flags/flags.js';
export type { FlagFreshness, FlagInfo, WriteOptions } from './flags/flags.js';
export { createFlagSystem } from './flags/create-flag-system.js';
export type { FlagSystemOptions } from './flags/create-flag-system.js';
export { migrateFlags } from './flags/migrate.js';
export type { MigrateResult } from './flags/migrate.js';
export type { Evaluation } from './flags/evaluator.js';
export type { GroupPredicate } from './flags/gates.js';
export type { FlagChange, FlagAuditEntry } from './flags/store/flag-store.js';
export type { FlagActor, FlagSubject, FlagDefinition, FlagGates, FlagValue, FlagState, FlagType, EvaluationReason } from './flags/types.js';
export type { FlagCheck } from './dedup/flags.js';
export { PRESERVE_LATEST_WAL_FLAG } from './dedup/flags.js';
export { FlagError, UndefinedFlagError, InvalidFlagValueError, UnknownEnvironmentError, FlagDefinitionError, FlagStoreUnavailableError } from './flags/errors.js';
export { Dashboard } from './web/dashboard.js';
export type { DashboardHandler } from './web/dashboard.js';
export type { DashboardOptions, AuthorizeResult } from './web/options.js';
export { serveDashboard } from './web/serve.js';
export type { ServeDashboardOptions, ServedDashboard } from './web/serve.js';
export type { JobsApi, JobLookupOptions, JobWaitOptions } from './results/jobs-api.js';
export type { JobInfo, JobTimestamps, JobEvent } from './results/job-info.js';
export { JobEvents } from './results/job-events.js';
export type { JobEventListener } from './results/job-events.js';
export type { JobEventName, JobLookupState, MinuteCounts } from './store/job-records.js';
export {
  LaglessError,
  InvalidOptionError,
  InvalidArgsError,
  UnknownWorkerError,
  MalformedPayloadError,
  InvalidLsnError,
  DatabaseUnavailableError,
  ReplicaChangedError,
  UnknownDatabaseError,
  AfterCommitError,
  StoreUnavailableError,
  EnqueueOutcomeUnknownError,
  JobNotFoundError,
  JobWaitTimeoutError,
  JobTimeoutError,
  UnknownScheduleError,
  EnqueueNotReplicatedError,
  PushRefusedError,
} from './errors.js';
export type { ScheduleOptions, ScheduleDefinition } from './cron/schedule-definition.js';
export type { ScheduleStatus } from './cron/schedules.js';
