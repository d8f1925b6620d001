import { z } from 'zod';
import type { DatabaseConfig } from '../db/databases.js';
import { databasesConfigSchema } from '../db/databases-config.js';
import { LaglessError } from '../errors.js';
import type { RedisTarget } from '../redis/connection.js';
import { environmentName } from './flags-config.js';
import { checkRedisTarget, redisTargetSchema } from './redis-target-schema.js';

/**
 * `lagless.config.{js,mjs,json}`: the environments the CLI can target, each with its Redis and databases
 * (the same shapes as createLagless's `redis` and `databases`), plus where flags live and are defined.
 *
 *   { defaultEnvironment: 'development',
 *     flags: { database: 'main', definitions: 'config/feature_flags' },
 *     environments: { development: { redis: 'redis://localhost:6379', databases: { main: { primary: 'postgres://…' } } },
 *                     production: { redis: { cluster: { nodes: ['redis://10.0.0.1:7000'] } } } } }
 */
export class ConfigFileError extends LaglessError {
  constructor(message: string) {
    super('CONFIG_FILE', message);
  }
}

const redisUrl = z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://');
const redisSchema = z.union([
  redisUrl,
  redisTargetSchema
    .extend({ prefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'use 1-64 letters, digits, _ . : or -').optional() })
    .strict()
    .superRefine(checkRedisTarget),
]);

const environmentSchema = z.object({ redis: redisSchema.optional(), databases: databasesConfigSchema.optional() }).strict();

export const configFileSchema = z
  .object({
    defaultEnvironment: environmentName.optional(),
    flags: z
      .object({ database: z.string().min(1).optional(), definitions: z.union([z.string().min(1), z.array(z.string().min(1))]).optional() })
      .strict()
      .optional(),
    environments: z.record(environmentName, environmentSchema).refine((envs) => Object.keys(envs).length > 0, 'name at least one environment'),
  })
  .strict()
  .refine((file) => !file.defaultEnvironment || file.defaultEnvironment in file.environments, {
    message: 'must be one of the names under environments',
    path: ['defaultEnvironment'],
  });

export interface EnvironmentConfig {
  /** A URL, a cluster or sentinels (the shapes of createLagless's `redis`), with the key prefix. */
  readonly redis?: Readonly<RedisTarget> & { readonly prefix: string };
  readonly databases?: Readonly<Record<string, DatabaseConfig>>;
}

/** A config file, validated, with relative paths resolved against its directory. */
export interface ConfigFile {
  /** The file it came from (for messages); `(no config file)` when lint runs without one. */
  readonly source: string;
  readonly environments: Readonly<Record<string, EnvironmentConfig>>;
  /** LAGLESS_ENV, else `defaultEnvironment`, else the only environment; undefined when none applies. */
  readonly defaultEnvironment: string | undefined;
  /** Where the default came from, for the message when it is not a configured environment. */
  readonly defaultFrom: string;
  /** Which of each environment's databases stores flags (default `main`). */
  readonly flagsDatabase: string;
  /** Absolute definition directories. */
  readonly definitionDirs: readonly string[];
}
