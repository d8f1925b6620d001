import type { Command } from 'commander';
import { featureDelete, featureGet, featureHistory, featureLint, featureList, featureSet } from '../flags/cli-actions.js';
import type { SetArgs } from '../flags/cli-args.js';
import { collect, withConfigOptions, withEnvironmentOptions } from './feature-options.js';
import { runFeatureCommand, type FeatureCommandOptions } from './feature-runner.js';

type SetOptions = FeatureCommandOptions & Omit<SetArgs, 'name' | 'value'> & { by?: string };

/** `lagless feature set|get|list|delete|history|lint` (DESIGN §7): thin wrappers over the feature* actions. */
export function registerFeature(program: Command): void {
  const feature = program.command('feature').description('feature flags: set, get, list, delete, history, lint');

  withEnvironmentOptions(feature.command('set <name> <value>').description('value: true, false, or a percentage N (of the time; of actors with --actors)'))
    .option('--actors', 'N is a percentage of actors, not of the time')
    .option('--user <ids>', 'enable/disable for these users (User:ID)', collect)
    .option('--project <ids>', 'enable/disable for these projects (Project:ID)', collect)
    .option('--group <ids>', 'enable/disable for these groups (Group:ID)', collect)
    .option('--namespace <ids>', 'enable/disable for these namespaces (Namespace:ID)', collect)
    .option('--feature-group <names>', 'enable/disable for a group registered with flags.registerGroup', collect)
    .option('--by <who>', 'recorded in the audit table (default: the OS user)')
    .action((name: string, value: string, options: SetOptions) => runFeatureCommand(options, (ctx) => featureSet(ctx, { ...options, name, value })));

  withEnvironmentOptions(feature.command('get <name>').description('state, stored gates and definition')).action((name: string, options: FeatureCommandOptions) =>
    runFeatureCommand(options, (ctx) => featureGet(ctx, { ...options, name })),
  );

  withEnvironmentOptions(feature.command('list').description('every defined or stored flag')).action((options: FeatureCommandOptions) =>
    runFeatureCommand(options, (ctx) => featureList(ctx, options)),
  );

  withEnvironmentOptions(feature.command('delete <name>').description('remove stored state: default_enabled applies again'))
    .option('--by <who>', 'recorded in the audit table (default: the OS user)')
    .action((name: string, options: FeatureCommandOptions & { by?: string }) => runFeatureCommand(options, (ctx) => featureDelete(ctx, { ...options, name })));

  withEnvironmentOptions(feature.command('history <name>').description('audit trail, newest first'))
    .option('--limit <n>', 'at most this many entries')
    .action((name: string, options: FeatureCommandOptions & { limit?: string }) => runFeatureCommand(options, (ctx) => featureHistory(ctx, { ...options, name })));

  withConfigOptions(feature.command('lint').description('check definitions; report stored flags without one and definitions never referenced'))
    .option('--src <dirs>', 'comma-separated source directories to search for references', collect)
    .option('--no-database', 'skip the stored-flags check')
    .action((options: FeatureCommandOptions & { src?: string[]; database: boolean }) =>
      runFeatureCommand(options, (ctx) => featureLint(ctx, options), { withDefinitions: false, optionalConfig: true, selectsEnvironments: false }),
    );
}
