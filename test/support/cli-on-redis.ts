import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * For a describe block: a private redis-server, an app on it under a fresh prefix, and `cli(...args)` running
 * `lagless` as a spawned process against the same server and prefix (`--redis`, `--prefix`).
 */
export function cliOnRedis(): { app: () => LaglessApp; cli: (...args: string[]) => Promise<CliRun> } {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const prefix = `cli${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  async function cli(...args: string[]): Promise<CliRun> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args, '--redis', redis.url, '--prefix', prefix]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as CliRun;
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  return { app: () => app, cli };
}
