import type { Command } from 'commander';
import { withAppModule } from './app-options.js';
import { loadApp, parseJsonArgument } from './load-app.js';

export function registerEnqueue(program: Command): void {
  withAppModule(program.command('enqueue <worker> <args>').description("enqueue a job: lagless enqueue EchoWorker '{\"n\":1}' --app ./app.js"))
    .option('--json', 'print the result as one JSON line (enqueue always does; the flag is accepted for scripts that pass it)')
    .action(async (workerName: string, argsText: string, options: { app?: string }) => {
      const args = parseJsonArgument(argsText, 'Job arguments');
      const app = await loadApp(options, { needsWorkers: true });
      try {
        const result = await app.enqueue(workerName, args);
        console.log(JSON.stringify(result));
      } finally {
        await app.close();
      }
    });
}
