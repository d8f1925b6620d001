import { randomBytes } from 'node:crypto';
import { RedisJobStore } from '../../src/redis/redis-store.js';
import { startRedisServer } from '../../src/sandbox/redis-server.js';
import { limitsHousekeepingConformance } from './limits-housekeeping.suite.js';
import { limitsConformance } from './limits.suite.js';

const openRedisStore = async () => {
  const server = await startRedisServer();
  const store = new RedisJobStore({ url: server.url, prefix: `t${randomBytes(3).toString('hex')}` });
  return {
    store,
    close: async () => {
      await store.close();
      await server.stop();
    },
  };
};

limitsConformance('RedisJobStore', openRedisStore);
limitsHousekeepingConformance('RedisJobStore', openRedisStore);
