import type { ConfigFile } from '../config/config-file.js';
import type { FlagLogger } from '../flags/change-log.js';
import type { FeatureCliContext } from '../flags/cli-actions.js';
import { createFlagSystem } from '../flags/create-flag-system.js';
import { createFlags, type Flags } from '../flags/flags.js';
import { PostgresFlagStore } from '../flags/store/postgres.js';
import type { EnvironmentConnections } from './environment-connections.js';

/**
 * What the feature* actions need from the CLI: one Flags per target environment, on that environment's
 * flags database and Redis, created on first use. `withDefinitions: false` is for `feature lint`, which
 * reports invalid definitions itself and only asks the databases for stored names.
 */
export function featureContext(config: ConfigFile, connections: EnvironmentConnections, options: { withDefinitions: boolean; logger: FlagLogger }): FeatureCliContext {
  const byEnvironment = new Map<string, Flags>();
  const create = (env: string): Flags => {
    const pool = connections.flagsPool(env);
    if (!options.withDefinitions) return createFlags({ store: new PostgresFlagStore(pool), definitions: new Map(), environment: env, logger: options.logger });
    const redis = connections.redis(env);
    return createFlagSystem({ pool, redis: redis?.client, redisPrefix: redis?.prefix, definitions: config.definitionDirs, environment: env, logger: options.logger });
  };
  return {
    environments: Object.keys(config.environments),
    defaultEnvironment: config.defaultEnvironment ?? '',
    definitionDirs: config.definitionDirs,
    flagsFor(env) {
      let flags = byEnvironment.get(env);
      if (!flags) byEnvironment.set(env, (flags = create(env)));
      return flags;
    },
  };
}
