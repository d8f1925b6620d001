import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

let server: RedisServerHandle;
let admin: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
});
afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

/** Reads of client input by the server so far (INFO stats): one per socket read, however many commands it held. */
async function readsProcessed(): Promise<number> {
  return Number(/total_reads_processed:(\d+)/.exec(await admin.info('stats'))![1]);
}

describe('inOneWrite on the Redis store', () => {
  it('writes the calls started inside it in one go: Redis reads two fetches in one read, round after round', async () => {
    const app = createLagless({ redis: { url: server.url, prefix: 'one-write' }, logger: false });
    const store = app.store;
    const fetch = (fetchId: string) => store.jobFetchMany({ queues: ['q'], count: 10, token: 'w', leaseMs: 1000, nowMs: Date.now(), fetchId });
    await fetch('warm'); // connected, scripts loaded
    const rounds = 30;
    const before = await readsProcessed();
    for (let round = 0; round < rounds; round++) {
      const [a, b] = store.inOneWrite!(() => [fetch(`a${round}`), fetch(`b${round}`)]);
      expect([...(await a), ...(await b)]).toEqual([]);
    }
    // One read per round, and one for the INFO that counts them (sent one at a time, a pair is read in two reads
    // whenever Redis wakes between the two writes).
    expect((await readsProcessed()) - before).toBe(rounds + 1);
    await app.close();
  });
});
