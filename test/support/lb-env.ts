import { randomBytes } from 'node:crypto';
import { createLagless, type LaglessApp, type LaglessConfig } from '../../src/index.js';
import { startPostgresCluster, type PostgresCluster, type PostgresClusterOptions } from '../../src/sandbox/postgres-cluster.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs } from '../helpers/log-capture.js';

/** A real primary + streaming replica and a private redis-server for the load-balanced job tests. */
export interface LbEnv {
  cluster: PostgresCluster;
  redis: RedisServerHandle;
  /** An app on its own key prefix and queue, its log lines captured; closed by `stop()`. */
  app(overrides?: Partial<LaglessConfig>): { app: LaglessApp; lines: Record<string, unknown>[]; queue: string };
  stop(): Promise<void>;
}

export async function startLbEnv(options: { applyDelayMs?: number; healthCheckIntervalMs?: number; cluster?: PostgresClusterOptions } = {}): Promise<LbEnv> {
  const [cluster, redis] = await Promise.all([startPostgresCluster({ replicas: 1, applyDelayMs: options.applyDelayMs ?? 0, ...options.cluster }), startRedisServer()]);
  const apps: LaglessApp[] = [];
  return {
    cluster,
    redis,
    app(overrides = {}) {
      const { logger, lines } = captureLogs();
      const tag = randomBytes(3).toString('hex');
      const app = createLagless({
        redis: { url: redis.url, prefix: `lb${tag}` },
        databases: { main: { primary: cluster.primaryUrl, replicas: cluster.replicaUrls, healthCheckIntervalMs: options.healthCheckIntervalMs ?? 200 } },
        logger,
        ...overrides,
      });
      apps.push(app);
      return { app, lines, queue: `q${tag}` };
    },
    async stop() {
      await Promise.all(apps.map((app) => app.close()));
      await Promise.all([cluster.stop(), redis.stop()]);
    },
  };
}

/** What a reading job saw: the row's version (null = missing) and whether the read ran on a standby. */
export interface ReadRecord {
  jid: string;
  worker: string;
  expected: number;
  seen: number | null;
  onReplica: boolean;
  strategy: string | undefined;
}

export const READ_SQL = 'select (select version from items where id = $1) as version, pg_is_in_recovery() as on_replica';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
