import { z } from 'zod';

export const ENVIRONMENT_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
export const environmentName = z.string().regex(ENVIRONMENT_NAME, 'environment names use lowercase letters, digits, _ and - (e.g. production)');

/** Where flags are stored unless `flags.database` says otherwise. */
export const DEFAULT_FLAGS_DATABASE = 'main';

/** The `flags` option of createLagless. */
export interface AppFlagsConfig {
  /** Which of `databases` stores the flags (default `main`). Without `databases` flags live in memory. */
  database?: string;
  /** Application definitions directory or directories (default `config/feature_flags`; missing is fine). */
  definitions?: string | string[];
  /** Environment this process evaluates (default `LAGLESS_ENV`, else `production`). */
  environment?: string;
  /** Further environments `app.flags.set(.., { env })` may write (the evaluated one is always included). */
  environments?: string[];
  /** Backstop reload period when a change notice is lost (default 30 s). */
  reloadIntervalMs?: number;
}

export const flagsConfigSchema = z
  .object({
    database: z.string().min(1).optional(),
    definitions: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
    environment: environmentName.optional(),
    environments: z.array(environmentName).optional(),
    reloadIntervalMs: z.number().int().min(100).optional(),
  })
  .strict();
