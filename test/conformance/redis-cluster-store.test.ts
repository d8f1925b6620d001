import { randomBytes } from 'node:crypto';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { startRedisCluster } from '../../src/sandbox/redis-cluster.js';
import { jobStoreConformance } from './job-store.suite.js';

// The third store configuration: the same contract on a 3-master Redis Cluster, where every script must keep to
// one slot and every multi-queue round trip (bulk push, resend checks) is split by node.
jobStoreConformance('RedisJobStore on Redis Cluster', async () => {
  const cluster = await startRedisCluster();
  const store = new RedisJobStore({ cluster: { nodes: cluster.nodes.slice(0, 1) }, prefix: `t${randomBytes(3).toString('hex')}` });
  return {
    store,
    close: async () => {
      await store.close();
      await cluster.stop();
    },
  };
});
