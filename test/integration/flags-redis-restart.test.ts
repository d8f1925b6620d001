import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createFlags, type Flags } from '../../src/flags/flags.js';
import { loadDefinitions } from '../../src/flags/definitions.js';
import { RedisFlagChangeBus } from '../../src/flags/redis-change-bus.js';
import { MemoryFlagStore } from '../../src/flags/store/memory.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { recordingLogger } from '../unit/flags-helpers.js';

const FLAG = 'preserve_latest_wal_locations_for_idempotent_jobs';
let server: RedisServerHandle;
const clients: Redis[] = [];
const instances: Flags[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(instances.map((f) => f.close()));
  clients.forEach((c) => c.disconnect());
  await server?.stop();
});

describe('flag notices across a Redis restart', () => {
  it('set does not hang while Redis is down, and the reader catches up when it resubscribes', async () => {
    const store = new MemoryFlagStore(); // shared storage stands in for PostgreSQL; Redis is what is under test
    const channel = `test:${randomUUID()}`;
    const make = (logger = recordingLogger()): Flags => {
      const redis = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
      redis.on('error', () => undefined);
      clients.push(redis);
      const flags = createFlags({ store, logger, environment: 'production', definitions: loadDefinitions(), bus: new RedisFlagChangeBus(redis, channel), reloadIntervalMs: 60_000 });
      instances.push(flags);
      return flags;
    };
    const writerLog = recordingLogger();
    const [writer, reader] = [make(writerLog), make()];
    await Promise.all([writer.start(), reader.start()]);

    await server.kill();
    const startedMs = Date.now();
    await writer.set(FLAG, false, { by: 'alice' }); // the flag is on by default: turning it off is the change
    expect(Date.now() - startedMs).toBeLessThan(3_000); // bounded publish, not a hung command queue
    expect(writerLog.lines.some((l) => String(l.msg).includes('notice not published'))).toBe(true);
    expect(reader.enabled(FLAG)).toBe(true); // the notice was lost...

    const caughtUp = new Promise<string[]>((resolve) => reader.onChange(resolve));
    await server.start();
    expect(await caughtUp).toEqual([FLAG]); // ...and the reconnect triggers a reload, not the 60 s backstop
    expect(reader.enabled(FLAG)).toBe(false);
  });
});
