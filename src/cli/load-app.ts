import type { LaglessApp } from '../app.js';
import { createLagless } from '../app.js';
import { importAppModule } from './app-module.js';
import { CliError } from './cli-error.js';

export { CliError };

const CLI_REDIS_TIMEOUT_MS = 2000;

export interface AppSource {
  app?: string;
  redis?: string;
  /** `--redis` names one node of a Redis Cluster. */
  cluster?: boolean;
  prefix?: string;
}

/** The app a command works on: the default export of `--app`, or a bare app on `--redis` for read-only commands. */
export async function loadApp(source: AppSource, options: { needsWorkers?: boolean } = {}): Promise<LaglessApp> {
  if (source.app) {
    const { default: exported } = (await importAppModule(source.app)) as { default?: unknown };
    // CommonJS compiled from `export default app` (TypeScript, Babel) holds the app under exports.default.
    const app = [exported, (exported as { default?: unknown } | undefined)?.default].find(isApp);
    if (!app) throw new CliError(`${source.app} must export a lagless app as its default export: export default createLagless({ ... }) (in CommonJS: module.exports = app).`);
    return app;
  }
  if (options.needsWorkers) throw new CliError('This command needs your workers: pass --app ./path/to/app.js (its default export is the app).');
  const url = source.redis ?? process.env.LAGLESS_REDIS_URL;
  if (!url) throw new CliError('Pass --app ./app.js, or --redis redis://host:port (or set LAGLESS_REDIS_URL).');
  // A command run by hand fails fast, as one against an unreachable PostgreSQL does.
  const cluster = source.cluster ?? process.env.LAGLESS_REDIS_CLUSTER === '1';
  const target = cluster ? { cluster: { nodes: [url] } } : { url };
  return createLagless({ redis: { ...target, prefix: source.prefix ?? 'lagless', commandTimeoutMs: CLI_REDIS_TIMEOUT_MS }, logger: false });
}

function isApp(value: unknown): value is LaglessApp {
  const app = value as Partial<LaglessApp> | null | undefined;
  return typeof app?.defineWorker === 'function' && typeof app.worker === 'function';
}

export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${what} must be JSON, e.g. '{"userId": 7}' (in single quotes in a shell): ${(error as Error).message}.`);
  }
}

export function parseWholeNumber(text: string, what: string, min = 1): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min) throw new CliError(`${what} must be a whole number >= ${min}; got '${text}'.`);
  return value;
}
