import type { Command } from 'commander';
import { serveDashboard } from '../web/serve.js';
import { withAppOptions } from './app-options.js';
import { explainListenError } from './cli-error.js';
import { CliError, loadApp, parseWholeNumber, type AppSource } from './load-app.js';

interface DashboardCliOptions extends AppSource {
  port: string;
  host: string;
  token?: string;
  readOnly?: boolean;
  metrics: boolean;
}

export function registerDashboard(program: Command): void {
  withAppOptions(program.command('dashboard').description('serve the web dashboard, its JSON API and /metrics until SIGTERM/SIGINT'))
    .option('--port <port>', 'port to listen on', '4567')
    .option('--host <address>', 'address to listen on; anything but loopback needs --token', '127.0.0.1')
    .option('--token <token>', 'token that changes (retry, delete, flags) need; or LAGLESS_DASHBOARD_TOKEN')
    .option('--read-only', 'refuse every change and hide the controls')
    .option('--no-metrics', 'do not serve /metrics')
    .action(async (options: DashboardCliOptions) => {
      const port = parseWholeNumber(options.port, '--port');
      if (port > 65_535) throw new CliError(`--port must be at most 65535; got ${port}.`);
      const app = await loadApp(options);
      try {
        // The app's own dashboard options (authorize, token, read-only) apply; flags given here win.
        const own = app.dashboard.options;
        const served = await serveDashboard(app, {
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
        console.log(served.banner);
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
        });
        await served.close();
      } finally {
        await app.close();
      }
    });
}
