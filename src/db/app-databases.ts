import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { UnknownDatabaseError } from '../errors.js';
import type { Database } from './database.js';
import { Databases, type DatabaseConfig } from './databases.js';

/**
 * The app's `databases`, started on first use (createLagless hands them to the flag system, so in practice
 * when the app is created). Starting runs the first health round and discovery, then the periodic checks
 * that bring an offline replica back; until it finishes every replica counts as online and the first
 * caught-up check asks it directly, so nothing waits for it.
 */
export class AppDatabases {
  private readonly databases: Databases | undefined;
  private started: Promise<void> | undefined;

  constructor(
    config: Readonly<Record<string, DatabaseConfig>> | undefined,
    private readonly deps: { registry: Registry; logger: Logger },
  ) {
    this.databases = config && Object.keys(config).length > 0 ? new Databases(config, { registry: deps.registry, logger: deps.logger }) : undefined;
  }

  /** The started databases, or undefined when none are configured. */
  get(): Databases | undefined {
    if (this.databases && !this.started) {
      this.started = this.databases.start().catch((error: unknown) => {
        // Health checks retry on their own schedule; a failed first round only delays what they learn.
        this.deps.logger.error({ event: 'databases_start_failed', err: error }, 'starting the database load balancers failed');
      });
    }
    return this.databases;
  }

  /** `app.db(name)` and `ctx.db(name)`: UnknownDatabaseError for a name that is not configured. */
  db(name: string): Database {
    const databases = this.get();
    if (!databases) throw new UnknownDatabaseError(name, []);
    return databases.db(name);
  }

  /** Wait for a start in progress (so no health timer outlives us), then drain and close every pool. */
  async close(): Promise<void> {
    await this.started;
    await this.databases?.close();
  }
}
