import type { Command } from 'commander';
import { loadConfigFile } from '../config/load-config-file.js';
import { migrateFlags, type MigrateResult } from '../flags/migrate.js';
import { EnvironmentConnections } from './environment-connections.js';
import { selectEnvironments } from './environment-selection.js';
import { withEnvironmentOptions } from './feature-options.js';
import { asCliError, type FeatureCommandOptions } from './feature-runner.js';
import { loadApp } from './load-app.js';

/**
 * `lagless migrate`: create or upgrade lagless's tables (today: the flag tables) on the flags database's
 * primary of each target environment, or with `--app` on the app's own (`app.migrate()`). Idempotent.
 */
export function registerMigrate(program: Command): void {
  withEnvironmentOptions(program.command('migrate').description('create or upgrade the flag tables (idempotent)'))
    .option('--app <module>', "run your app's app.migrate() instead of using the config file")
    .action(async (options: FeatureCommandOptions & { app?: string }) => {
      const results: Array<{ environment: string } & MigrateResult> = [];
      if (options.app) {
        const app = await loadApp({ app: options.app });
        try {
          results.push({ environment: app.flags.environment, ...(await app.migrate()) });
        } finally {
          await app.close();
        }
      } else {
        const config = await loadConfigFile({ path: options.config });
        const environments = selectEnvironments(options, config);
        const connections = new EnvironmentConnections(config);
        try {
          for (const environment of environments) results.push({ environment, ...(await migrateFlags(connections.flagsPool(environment))) });
        } catch (err) {
          throw asCliError(err);
        } finally {
          await connections.close();
        }
      }
      if (options.json) return console.log(JSON.stringify({ results }));
      for (const { environment, applied } of results) console.log(`${environment}: ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'up to date'}`);
    });
}
