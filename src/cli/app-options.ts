import type { Command } from 'commander';

/** The options every command that talks to a store accepts. */
export function withAppOptions(command: Command): Command {
  return command
    .option('--app <module>', 'module whose default export is your lagless app')
    .option('--redis <url>', 'Redis URL when no --app is given (or LAGLESS_REDIS_URL)')
    .option('--prefix <prefix>', 'Redis key prefix with --redis', 'lagless');
}
