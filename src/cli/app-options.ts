import type { Command } from 'commander';

/** The option of every command that runs or enqueues jobs: those need the app's workers, so only --app. */
export function withAppModule(command: Command): Command {
  return command.option('--app <module>', 'module whose default export is your lagless app (.js, .mjs, .cjs; .ts with tsx installed)');
}

/** The options of every read-only command that talks to a store: --app, or a bare store on --redis. */
export function withAppOptions(command: Command): Command {
  return withAppModule(command)
    .option('--redis <url>', 'Redis URL when no --app is given (or LAGLESS_REDIS_URL)')
    .option('--cluster', 'the --redis URL is one node of a Redis Cluster (or LAGLESS_REDIS_CLUSTER=1)')
    .option('--prefix <prefix>', 'Redis key prefix with --redis', 'lagless');
}
