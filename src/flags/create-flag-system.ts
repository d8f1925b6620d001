import type { RedisClient } from '../redis/connection.js';
import type { Registry } from 'prom-client';
import type { FlagLogger } from './change-log.js';
import { loadDefinitions } from './definitions.js';
import { createFlags, type Flags } from './flags.js';
import { DEFAULT_FLAG_CHANNEL, RedisFlagChangeBus } from './redis-change-bus.js';
import { MemoryFlagStore } from './store/memory.js';
import { PostgresFlagStore } from './store/postgres.js';
import type { FlagPool } from './store/queryable.js';

/**
 * The one call `createLagless` makes to wire flags: definitions from disk (plus lagless's own), PostgreSQL
 * storage on the primary, Redis change notices. Without a pool the flags live in memory (embedded mode);
 * without Redis other processes see changes on their periodic reload only.
 */
export interface FlagSystemOptions {
  /** A pool on the flags database's primary (`flags.database`, default `main`). */
  readonly pool?: FlagPool;
  /** The app's Redis connection; only a duplicate (the subscriber) is opened and closed by the flag system. */
  readonly redis?: RedisClient;
  /** Prefix of the app's Redis keys: isolates the notice channel the same way. */
  readonly redisPrefix?: string;
  /** Application definitions directory (default `config/feature_flags`; missing is fine). */
  readonly definitions?: string | readonly string[];
  /** Environment this process evaluates (default `production`: undefined flags answer false rather than throw). */
  readonly environment?: string;
  /** Environments writes may target (config file environments); default just `environment`. */
  readonly environments?: readonly string[];
  readonly logger: FlagLogger;
  readonly registry?: Registry;
  readonly reloadIntervalMs?: number;
}

export function createFlagSystem(options: FlagSystemOptions): Flags {
  const dirs = typeof options.definitions === 'string' ? [options.definitions] : (options.definitions ?? ['config/feature_flags']);
  const environment = options.environment ?? 'production';
  const channel = options.redisPrefix ? `${options.redisPrefix}:feature_flags:changed` : DEFAULT_FLAG_CHANNEL;
  return createFlags({
    store: options.pool ? new PostgresFlagStore(options.pool) : new MemoryFlagStore(),
    definitions: loadDefinitions({ dirs }),
    environment,
    environments: options.environments ?? [environment],
    logger: options.logger,
    registry: options.registry,
    reloadIntervalMs: options.reloadIntervalMs,
    bus: options.redis ? new RedisFlagChangeBus(options.redis, channel) : undefined,
  });
}
