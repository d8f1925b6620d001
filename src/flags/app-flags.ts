import type { RedisClient } from '../redis/connection.js';
import type { Registry } from 'prom-client';
import { DEFAULT_FLAGS_DATABASE, type AppFlagsConfig } from '../config/flags-config.js';
import type { Databases } from '../db/databases.js';
import { InvalidOptionError } from '../errors.js';
import type { FlagLogger } from './change-log.js';
import { createFlagSystem } from './create-flag-system.js';
import type { Flags } from './flags.js';
import { migrateFlags, type MigrateResult } from './migrate.js';
import type { FlagPool } from './store/queryable.js';

export interface AppFlagsDeps {
  /** The app's configured databases (undefined without `databases`: flags then live in memory). */
  readonly databases: Databases | undefined;
  /** The job store's Redis connection and key prefix, for change notices. */
  readonly redis: { readonly client: RedisClient; readonly prefix: string } | undefined;
  readonly logger: FlagLogger;
  readonly registry: Registry;
  /** Closes what the app opened before flags, when flags cannot be set up (invalid definitions or flags.database). */
  readonly releaseOnFailure?: () => Promise<unknown>;
}

export interface AppFlags {
  readonly flags: Flags;
  /** `app.migrate()`: creates or upgrades the flag tables on the flags database's primary, then reloads. */
  migrate(): Promise<MigrateResult>;
  close(): Promise<void>;
}

/**
 * What createLagless does for `flags`: pick the flags database's primary from `databases`, evaluate for
 * `environment` (default LAGLESS_ENV, else production), publish and receive change notices on the app's
 * Redis, and start loading the snapshot at once so `enabled()` answers from stored state as soon as possible.
 */
export function createAppFlags(config: AppFlagsConfig = {}, deps: AppFlagsDeps): AppFlags {
  const environment = config.environment ?? process.env.LAGLESS_ENV ?? 'production';
  let pool: FlagPool | undefined;
  let flags: Flags;
  try {
    pool = flagsPool(config, deps.databases);
    flags = createFlagSystem({
      pool,
      // A memory store is private to this process: a notice would make other processes reload nothing.
      redis: pool ? deps.redis?.client : undefined,
      redisPrefix: deps.redis?.prefix,
      definitions: config.definitions,
      environment,
      environments: [...new Set([environment, ...(config.environments ?? [])])],
      logger: deps.logger,
      registry: deps.registry,
      reloadIntervalMs: config.reloadIntervalMs,
    });
  } catch (err) {
    void deps.releaseOnFailure?.().catch(() => undefined);
    throw err;
  }
  void flags.start();
  return {
    flags,
    async migrate() {
      if (!pool) return { applied: [] };
      const result = await migrateFlags(pool);
      await flags.reload(); // a load that failed before the tables existed
      return result;
    },
    close: () => flags.close(),
  };
}

function flagsPool(config: AppFlagsConfig, databases: Databases | undefined): FlagPool | undefined {
  const name = config.database ?? DEFAULT_FLAGS_DATABASE;
  if (!databases) {
    if (config.database === undefined) return undefined;
    throw new InvalidOptionError(`flags.database is '${name}' but no databases are configured; add databases: { ${name}: { primary: 'postgres://…' } }, or omit flags.database to keep flags in memory.`);
  }
  if (!databases.names.includes(name)) {
    throw new InvalidOptionError(
      `flags.database '${name}' is not one of the configured databases (${databases.names.join(', ')}); set flags.database to the database that holds the flag tables.`,
    );
  }
  return databases.db(name).primaryPool;
}
