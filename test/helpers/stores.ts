import { randomBytes } from 'node:crypto';
import type { RedisServerHandle } from '../../src/sandbox/redis-server.js';

/**
 * The two stores for `describe.each`: memory (no `redis` option) and Redis on its own key prefix. The server is
 * read when a test runs, so it may be started in a `beforeAll`.
 */
export function bothStores(redis: () => RedisServerHandle) {
  return [
    ['memory', () => undefined],
    ['redis', () => ({ url: redis().url, prefix: `t${randomBytes(3).toString('hex')}` })],
  ] as const;
}
