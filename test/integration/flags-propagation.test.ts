import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createFlags, type Flags } from '../../src/flags/flags.js';
import { loadDefinitions } from '../../src/flags/definitions.js';
import { migrateFlags } from '../../src/flags/migrate.js';
import { RedisFlagChangeBus } from '../../src/flags/redis-change-bus.js';
import { PostgresFlagStore } from '../../src/flags/store/postgres.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { startFlagsPgSandbox, type FlagsPgSandbox } from './flags-pg-sandbox.js';

const FLAG = 'preserve_latest_wal_locations_for_idempotent_jobs';
const channel = `test:${randomUUID()}:flags`;
let pgSandbox: FlagsPgSandbox;
let redisServer: RedisServerHandle;
let redis: Redis;
let flags: Flags;
let child: ChildProcess;
const childLines: string[] = [];
let onChildLine: (() => void) | undefined;

beforeAll(async () => {
  [pgSandbox, redisServer] = await Promise.all([startFlagsPgSandbox(), startRedisServer()]);
  await migrateFlags(pgSandbox.pool);
  redis = new Redis(redisServer.url);
  flags = createFlags({
    store: new PostgresFlagStore(pgSandbox.pool),
    definitions: loadDefinitions(),
    environment: 'production',
    logger: { info: () => undefined, warn: () => undefined },
    bus: new RedisFlagChangeBus(redis, channel),
  });
  await flags.start();
  child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/flags-child-process.ts', pgSandbox.url, redisServer.url, channel, FLAG], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    childLines.push(line);
    onChildLine?.();
  });
  await waitForChildLine((line) => line === 'ready', 20_000);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin?.end();
    await exited;
  }
  await flags?.close();
  redis?.disconnect();
  await Promise.all([pgSandbox?.stop(), redisServer?.stop()]);
});

function waitForChildLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not print the expected line; got ${JSON.stringify(childLines)}`)), timeoutMs);
    const check = (): void => {
      const found = childLines.find(match);
      if (!found) return;
      clearTimeout(timer);
      onChildLine = undefined;
      resolve(found);
    };
    onChildLine = check;
    check();
  });
}

describe('flag change propagation', () => {
  it('reaches another OS process within 1 s through Redis', async () => {
    childLines.length = 0;
    const startedMs = Date.now();
    await flags.set(FLAG, true, { by: 'alice' });
    await waitForChildLine((line) => line.includes('"enabled":true'), 5_000);
    expect(Date.now() - startedMs).toBeLessThan(1_000);
    expect(flags.enabled(FLAG)).toBe(true);
  });

  it('audits the change in PostgreSQL', async () => {
    const [entry] = await flags.history(FLAG);
    expect(entry).toMatchObject({ action: 'enable', by: 'alice', environment: 'production', oldGates: null });
  });
});
