import { randomBytes } from 'node:crypto';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { startRedisCluster } from '../../src/sandbox/redis-cluster.js';
import { jobRecordsConformance } from './job-records.suite.js';
import { limitsConformance } from './limits.suite.js';
import { scheduleStoreConformance } from './schedule-store.suite.js';

// Job records, concurrency limits and cron schedules keep the same contract on a 3-master Redis Cluster: their
// scripts and pipelines keep to one slot, and events reach a subscriber whichever node published them.
const onCluster = async (): Promise<{ store: RedisJobStore; close: () => Promise<void> }> => {
  const cluster = await startRedisCluster();
  const store = new RedisJobStore({ cluster: { nodes: cluster.nodes.slice(0, 1) }, prefix: `x${randomBytes(3).toString('hex')}` });
  return {
    store,
    close: async () => {
      await store.close();
      await cluster.stop();
    },
  };
};

jobRecordsConformance('RedisJobStore on Redis Cluster', onCluster);
limitsConformance('RedisJobStore on Redis Cluster', onCluster);
scheduleStoreConformance('RedisJobStore on Redis Cluster', onCluster);
