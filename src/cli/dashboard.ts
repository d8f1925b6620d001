import type { Command } from 'commander';
import type { LaglessApp } from '../app.js';
import type { DashboardApp, DashboardFlags } from '../web/dashboard-deps.js';
import { serveDashboard } from '../web/serve.js';
import { resolveDashboardFlags } from './dashboard-flags.js';
import { withAppOptions } from './app-options.js';
import { explainListenError } from './cli-error.js';
import { CliError, loadApp, parseWholeNumber, type AppSource } from './load-app.js';

interface DashboardCliOptions extends AppSource {
  port: string;
  host: string;
  token?: string;
  readOnly?: boolean;
  metrics: boolean;
  config?: string;
  env?: string;
}

export function registerDashboard(program: Command): void {
  withAppOptions(program.command('dashboard').description('serve the web dashboard, its JSON API and /metrics until SIGTERM/SIGINT'))
    .option('--port <port>', 'port to listen on', '4567')
    .option('--host <address>', 'address to listen on; anything but loopback needs --token', '127.0.0.1')
    .option('--token <token>', 'token that changes (retry, delete, flags) need; or LAGLESS_DASHBOARD_TOKEN')
    .option('--read-only', 'refuse every change and hide the controls')
    .option('--no-metrics', 'do not serve /metrics')
    .option('--config <file>', 'config file naming each environment\'s flags database (default: lagless.config.{js,mjs,json} here)')
    .option('--env <name>', 'environment of the config file whose flags to show (default: LAGLESS_ENV or the config\'s default)')
    .action(async (options: DashboardCliOptions) => {
      const port = parseWholeNumber(options.port, '--port');
      if (port > 65_535) throw new CliError(`--port must be at most 65535; got ${port}.`);
      let app = options.app ? await loadApp(options) : undefined;
      const flags = await resolveDashboardFlags(options, () => app);
      try {
        app ??= await loadApp(!options.redis && !process.env.LAGLESS_REDIS_URL && flags.redis ? { ...options, redis: flags.redis.url, cluster: flags.redis.cluster, prefix: flags.redis.prefix } : options);
      } catch (error) {
        await flags.close();
        throw error;
      }
      try {
        // The app's own dashboard options (authorize, token, read-only) apply; flags given here win.
        const own = app.dashboard.options;
        // The page shows only flags read from a real store (see dashboard-flags.ts), never this process's own.
        const served = await serveDashboard(dashboardApp(app, flags.flags), {
          port,
          host: options.host,
          token: options.token ?? own.token,
          authorize: own.authorize,
          readOnly: options.readOnly ?? own.readOnly,
          metrics: options.metrics && own.metrics,
          sampleIntervalMs: own.sampleIntervalMs,
          historyMs: own.historyMs,
        }).catch((error: unknown) => {
          throw explainListenError(error, '--port', port, options.host);
        });
        console.log(`${served.banner}; ${flags.description}`);
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
        });
        await served.close();
      } finally {
        await flags.close();
        await app.close();
      }
    });
}

/** The app as the dashboard reads it, with the flags it may show (undefined: not configured). */
function dashboardApp(app: LaglessApp, flags: DashboardFlags | undefined): DashboardApp {
  return { store: app.store, metrics: app.metrics, logger: app.logger, databases: app.databases, flags, workers: () => app.workers() };
}
