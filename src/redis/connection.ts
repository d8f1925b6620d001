import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A command connection: one Redis (a URL, or the primary named by Sentinel) or a Redis Cluster client. */
export type RedisClient = Redis | Cluster;

export interface RedisClusterConfig {
  /** Seed nodes, `redis://host:port` (one is enough; ioredis discovers the rest with CLUSTER SLOTS). */
  nodes: string[];
  /** ioredis ClusterOptions; `redisOptions` inside it applies to every node connection. */
  options?: ClusterOptions;
}

export interface RedisSentinelEndpoint {
  host: string;
  port: number;
}

/**
 * Where Redis is: exactly one of `url`, `cluster` or `sentinels` (+ `name`, the master name the sentinels monitor).
 * Routing, MOVED/ASK redirections and failover are ioredis's own (Cluster, SentinelConnector).
 */
export interface RedisTarget {
  url?: string;
  cluster?: RedisClusterConfig;
  sentinels?: RedisSentinelEndpoint[];
  name?: string;
  /** Password of the data nodes behind Sentinel (with `url`, put it in the URL). */
  password?: string;
  /** Password of the sentinels themselves. */
  sentinelPassword?: string;
}

/**
 * Open a connection to the target. `roleOptions` are the connection's own (deadline behaviour, blocking waits);
 * `redisOptions` the user's. On a cluster both apply to every node connection, except that a node connection keeps
 * its offline queue (it queues while it connects, and rejects everything with "Connection is closed." when it
 * drops: ioredis never reconnects a cluster node, it refreshes the slots instead); `clusterRoleOptions` are the
 * connection's own cluster options (a sharded subscriber).
 */
export function openRedis(target: RedisTarget, roleOptions: RedisOptions, redisOptions: RedisOptions = {}, clusterRoleOptions: ClusterOptions = {}): RedisClient {
  if (target.cluster) {
    const { enableOfflineQueue, ...nodeRoleOptions } = roleOptions;
    const options = target.cluster.options ?? {};
    return new Cluster(target.cluster.nodes.map(seedNode), {
      ...options,
      ...clusterRoleOptions,
      ...(roleOptions.lazyConnect ? { lazyConnect: true } : {}),
      ...(enableOfflineQueue === false
        ? {
            enableOfflineQueue: false,
            // A command written to a master that then died may have run: ioredis would resend it after the
            // failover with no deadline. Rejected instead, so DeadlineCalls resends it (checking first) or gives up.
            retryDelayOnFailover: 0,
          }
        : {}),
      redisOptions: { ...options.redisOptions, ...redisOptions, ...nodeRoleOptions },
    });
  }
  if (target.sentinels) {
    return new Redis({
      // Reconnect as soon as the sentinels announce +switch-master, not on the next backoff tick.
      failoverDetector: true,
      ...redisOptions,
      ...roleOptions,
      sentinels: target.sentinels,
      name: target.name,
      ...(target.password ? { password: target.password } : {}),
      ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    });
  }
  return new Redis(target.url!, { ...roleOptions, ...redisOptions });
}

/** What errors name: host:port, the cluster's seed nodes, or the Sentinel master name and sentinels. */
export function describeTarget(target: RedisTarget): string {
  if (target.cluster) return `cluster ${target.cluster.nodes.map(hostOf).join(',')}`;
  if (target.sentinels) return `sentinel master '${target.name}' via ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  return hostOf(target.url!);
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

function seedNode(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 6379) };
}

function hostOf(url: string): string {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port || 6379}`;
}
