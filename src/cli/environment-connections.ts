import { openRedis, type RedisClient } from '../redis/connection.js';
import pg from 'pg';
import type { ConfigFile } from '../config/config-file.js';
import type { FlagPool } from '../flags/store/queryable.js';
import { CliError } from './load-app.js';

/**
 * The connections a CLI command opens per target environment, from the config file: a small pool on the
 * flags database's primary and, when the environment names Redis, a client that publishes change notices.
 * Both fail fast (the CLI must answer, not wait) and `close()` ends everything this object opened.
 */
export class EnvironmentConnections {
  private readonly pools = new Map<string, pg.Pool>();
  private readonly redisClients = new Map<string, RedisClient>();

  constructor(private readonly config: ConfigFile) {}

  /** The flags database primary of `env`; CliError when the environment does not configure it. */
  flagsPool(env: string): FlagPool {
    const url = this.config.environments[env]?.databases?.[this.config.flagsDatabase]?.primary;
    if (!url) {
      throw new CliError(
        `Environment '${env}' in ${this.config.source} has no databases.${this.config.flagsDatabase}.primary; flags are stored there (add it, or set flags.database).`,
      );
    }
    let pool = this.pools.get(env);
    if (!pool) {
      pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
      pool.on('error', () => undefined); // an idle client dropped by the server; the next query reconnects or fails clearly
      this.pools.set(env, pool);
    }
    return labelConnectionErrors(pool, `${env} flags database ${redactUrl(url)}`);
  }

  /** Redis of `env` for change notices, or undefined (other processes then catch up on their periodic reload). */
  redis(env: string): { client: RedisClient; prefix: string } | undefined {
    const config = this.config.environments[env]?.redis;
    if (!config) return undefined;
    let client = this.redisClients.get(env);
    if (!client) {
      // No reconnect loop and no queueing: a down Redis costs one failed publish, logged as a warning.
      client = openRedis(config, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
      client.on('error', () => undefined);
      this.redisClients.set(env, client);
    }
    return { client, prefix: config.prefix };
  }

  async close(): Promise<void> {
    for (const client of this.redisClients.values()) client.disconnect();
    await Promise.all([...this.pools.values()].map((pool) => pool.end().catch(() => undefined)));
  }
}

/** Connection errors name the environment and host, so "unreachable" says which one. */
function labelConnectionErrors(pool: pg.Pool, label: string): FlagPool {
  const tag = (err: unknown): never => {
    // A dual-stack connection failure is an AggregateError with an empty message; its code says enough.
    if (err instanceof Error && !err.message.startsWith(label)) err.message = `${label}: ${err.message || String((err as { code?: unknown }).code ?? err.name)}`;
    throw err;
  };
  return {
    query: (text, values) => pool.query(text, values).catch(tag),
    connect: () => pool.connect().catch(tag),
  };
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`: messages must not print passwords. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
