import { pino } from 'pino';
import { loadConfigFile } from '../config/load-config-file.js';
import { LaglessError } from '../errors.js';
import { isUnavailableError } from '../flags/change-log.js';
import type { FeatureCliContext, FeatureResult } from '../flags/cli-actions.js';
import type { EnvArgs } from '../flags/cli-args.js';
import { EnvironmentConnections } from './environment-connections.js';
import { selectEnvironments } from './environment-selection.js';
import { featureContext } from './feature-context.js';
import { CliError } from './load-app.js';

export interface FeatureCommandOptions extends EnvArgs {
  config?: string;
  json?: boolean;
}

/**
 * One `lagless feature …` run: load the config, check the environment selection, run the action, print its
 * summary (or `--json`), close every connection. Exit status 1 when the action reports problems; errors
 * become one line on stderr (main.ts).
 */
export async function runFeatureCommand(
  options: FeatureCommandOptions,
  action: (ctx: FeatureCliContext) => Promise<FeatureResult>,
  settings: { withDefinitions?: boolean; optionalConfig?: boolean; selectsEnvironments?: boolean } = {},
): Promise<void> {
  const config = await loadConfigFile({ path: options.config, optional: settings.optionalConfig });
  if (settings.selectsEnvironments !== false) selectEnvironments(options, config);
  const connections = new EnvironmentConnections(config);
  try {
    const result = await action(featureContext(config, connections, { withDefinitions: settings.withDefinitions ?? true, logger: cliLogger() }));
    console.log(options.json ? JSON.stringify(result.data) : result.text);
    if (!result.ok) process.exitCode = 1;
  } catch (err) {
    throw asCliError(err);
  } finally {
    await connections.close();
  }
}

/** Change lines and warnings as JSON on stderr, so stdout stays the summary (or the --json document). */
export function cliLogger(): pino.Logger {
  return pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

/** A database error that is not a LaglessError still becomes one line that says what to do. */
export function asCliError(err: unknown): unknown {
  if (err instanceof LaglessError || !(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  if (code === '42P01') return new CliError(`${err.message}: the flag tables are missing; run \`lagless migrate\` for this environment first.`);
  if (isUnavailableError(err)) return new CliError(`Cannot reach ${err.message}. Check the URL in the config file and that the database is up.`);
  if (typeof code === 'string') return new CliError(err.message);
  return err;
}
