import type { ConfigFile } from '../config/config-file.js';
import { resolveEnvironments, type EnvArgs } from '../flags/cli-args.js';
import { CliError } from './load-app.js';

/** True when the command line names environments (otherwise the default environment applies). */
export function namesEnvironments(args: EnvArgs): boolean {
  return args.env !== undefined || Boolean(args.dev || args.staging || args.production);
}

/**
 * The environments a command targets: `--env a,b` and the shorthands, else the default (LAGLESS_ENV, the
 * config's defaultEnvironment, or its only environment). Every name is checked before anything connects.
 */
export function selectEnvironments(args: EnvArgs, config: ConfigFile): string[] {
  const known = Object.keys(config.environments);
  if (!namesEnvironments(args)) {
    if (!config.defaultEnvironment) {
      throw new CliError(`No environment selected: pass --env=<name> (or --dev, --staging, --production) or set LAGLESS_ENV. Environments in ${config.source}: ${known.join(', ')}.`);
    }
    if (!known.includes(config.defaultEnvironment)) {
      throw new CliError(`${config.defaultFrom} is not an environment in ${config.source}; known environments: ${known.join(', ')}.`);
    }
  }
  return resolveEnvironments(args, known, config.defaultEnvironment ?? '');
}
