import type { Command } from 'commander';

/** `--user 1 --user 2,3` → ['1', '2,3'] (the actions split on commas and reject empty entries). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--config` and `--json`, on every command that reads the config file. */
export function withConfigOptions(command: Command): Command {
  return command.option('--config <file>', 'config file (default: lagless.config.{js,mjs,json} in the current directory)').option('--json', 'print JSON instead of a summary');
}

/** Target environments: `--env a,b` (repeatable) and the shorthands; none ⇒ LAGLESS_ENV or the config's default. */
export function withEnvironmentOptions(command: Command): Command {
  return withConfigOptions(command)
    .option('--env <names>', 'comma-separated environments from the config file', collect)
    .option('--dev', 'the development environment')
    .option('--staging', 'the staging environment')
    .option('--production', 'the production environment');
}
