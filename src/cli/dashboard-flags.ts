import type { LaglessApp } from '../app.js';
import type { RedisTarget } from '../redis/connection.js';
import { loadConfigFile } from '../config/load-config-file.js';
import { createFlagSystem } from '../flags/create-flag-system.js';
import type { DashboardFlags } from '../web/dashboard-deps.js';
import { EnvironmentConnections } from './environment-connections.js';
import { cliLogger } from './feature-runner.js';
import { CliError } from './load-app.js';

export interface DashboardFlagsSource {
  app?: string;
  config?: string;
  env?: string;
}

export interface ResolvedDashboardFlags {
  /** undefined: the flags page says flags are not configured and refuses changes. */
  flags: DashboardFlags | undefined;
  /**
   * The environment's Redis from the config file, when the command line names none: a URL, or a cluster node
   * (Sentinel targets need --app).
   */
  redis?: { url: string; cluster: boolean; prefix: string };
  /** Where the flags come from, for the banner. */
  description: string;
  close(): Promise<void>;
}

const NONE = async (): Promise<void> => undefined;

/**
 * The flag store `lagless dashboard` shows: the app's own when its flags live in PostgreSQL, else the flags database
 * of the config file's environment (`--env`, LAGLESS_ENV or the default one), else none. Never a store private to
 * this process: a dashboard that showed in-memory flags would show defaults while production has flags on, and
 * accept changes that reach nobody.
 */
export async function resolveDashboardFlags(source: DashboardFlagsSource, app: () => LaglessApp | undefined): Promise<ResolvedDashboardFlags> {
  const own = app();
  if (own?.databases) return { flags: own.flags, description: `flags: the app's flags database (${own.flags.environment})`, close: NONE };
  const config = await loadConfigFile({ path: source.config, optional: source.config === undefined });
  const names = Object.keys(config.environments);
  if (names.length === 0) {
    if (source.env) throw new CliError(`--env ${source.env} needs a lagless.config.{js,mjs,json} in this directory (or --config <file>) that names it.`);
    return { flags: undefined, description: 'flags: not configured (no lagless.config file)', close: NONE };
  }
  const env = source.env ?? config.defaultEnvironment;
  if (!env) throw new CliError(`Pass --env <name> to pick the environment whose flags to show; environments in ${config.source}: ${names.join(', ')}.`);
  const environment = config.environments[env];
  if (!environment) throw new CliError(`Environment '${env}' is not in ${config.source}; known environments: ${names.join(', ')}.`);
  const redis = cliTarget(environment.redis);
  if (!environment.databases?.[config.flagsDatabase]?.primary) {
    return { flags: undefined, redis, description: `flags: not configured (environment '${env}' in ${config.source} has no databases.${config.flagsDatabase}.primary)`, close: NONE };
  }
  const connections = new EnvironmentConnections(config);
  const notices = connections.redis(env);
  const flags = createFlagSystem({ pool: connections.flagsPool(env), redis: notices?.client, redisPrefix: notices?.prefix, definitions: config.definitionDirs, environment: env, environments: [env], logger: cliLogger() });
  void flags.start();
  return {
    flags,
    redis,
    description: `flags: environment '${env}' from ${config.source}`,
    async close() {
      await flags.close();
      await connections.close();
    },
  };
}

/** A config file's Redis as the command line names one: its URL, or its first cluster seed with --cluster. */
function cliTarget(target: (RedisTarget & { prefix: string }) | undefined): ResolvedDashboardFlags['redis'] {
  if (target?.url) return { url: target.url, cluster: false, prefix: target.prefix };
  const seed = target?.cluster?.nodes[0];
  return seed ? { url: seed, cluster: true, prefix: target!.prefix } : undefined;
}
