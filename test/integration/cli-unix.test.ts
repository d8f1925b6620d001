import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createLagless, type LaglessApp } from '../../src/index.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const DEMO = new URL('../../src/demo/main.ts', import.meta.url).pathname;
const APP = new URL('../fixtures/cli-app.ts', import.meta.url).pathname;
const LOGGING_APP = new URL('../fixtures/cli-logging-app.ts', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Each run starts Node with tsx (seconds on a busy machine): the tests allow minutes, not a speed target.
function run(script: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { env, cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A failure as `lagless` should report it: exit 1, the last stderr line is `lagless: …`, and no stack. */
function expectOneLineError(result: Run, message: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  const ours = result.stderr.split('\n').filter((line) => line.startsWith('lagless:'));
  expect(ours).toHaveLength(1);
  expect(ours[0]).toMatch(message);
}

describe('lagless CLI as a Unix tool', () => {
  let redis: RedisServerHandle;
  let app: LaglessApp;
  const prefix = `unix${randomBytes(3).toString('hex')}`;
  let env: NodeJS.ProcessEnv;
  const temp = mkdtempSync(join(tmpdir(), 'lagless-cli-'));
  const cli = (...args: string[]): Promise<Run> => run(MAIN, args, env);
  const on = (keyPrefix = prefix): string[] => ['--redis', redis.url, '--prefix', keyPrefix];

  beforeAll(async () => {
    redis = await startRedisServer();
    const { LAGLESS_LOG_TO: _inherited, ...rest } = process.env;
    env = { ...rest, REDIS_URL: redis.url, PREFIX: prefix };
    app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it('prints its version, and the demo prints its options', async () => {
    expect(await cli('--version')).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await run(DEMO, ['--help'], env);
    expect(help.code).toBe(0);
    for (const option of ['--flag on|off|both', '--users N', '--lag-ms N', '--port N', '--keep-open']) expect(help.stdout).toContain(option);
    const unknown = await run(DEMO, ['--nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^demo: Unknown option '--nope'\. usage: npm run demo -- .*--help/);
  }, 180_000);

  it('keeps stdout for the result: the default logger of an --app writes to stderr', async () => {
    const first = await cli('enqueue', 'RefreshWorker', '{"userId":1}', '--app', LOGGING_APP);
    const second = await cli('enqueue', 'RefreshWorker', '{"userId":1}', '--app', LOGGING_APP, '--json');
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    // stdout is exactly the result, one JSON document, as `| jq` needs.
    expect(JSON.parse(second.stdout)).toEqual({ jid: expect.any(String), deduplicated: true, duplicateOf: JSON.parse(first.stdout).jid });
    // The log line of the absorbed enqueue went to stderr.
    const logLines = second.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logLines).toContainEqual(expect.objectContaining({ class: 'RefreshWorker', job_status: 'deduplicated' }));
  }, 180_000);

  // Plain Node's answers to CommonJS and TypeScript apps are checked by scripts/consumer-check.mjs against the
  // installed package: under tsx, which these tests run the CLI with, both load.
  it('answers a missing --app file, or a module that exports no app, in one line', async () => {
    expectOneLineError(await cli('queues', '--app', join(temp, 'nope.js')), /--app .*nope\.js: no such file .*; pass the module whose default export is your lagless app/);
    writeFileSync(join(temp, 'not-an-app.cjs'), 'module.exports = { app: 1 };\n');
    expectOneLineError(await cli('queues', '--app', join(temp, 'not-an-app.cjs')), /must export a lagless app as its default export: .*module\.exports = app/);
  }, 180_000);

  it('offers --redis only on commands that accept it', async () => {
    for (const command of [['worker'], ['enqueue'], ['dedup', 'show']]) {
      const help = await cli(...command, '--help');
      expect(help.stdout).toContain('--app <module>');
      expect(help.stdout).not.toContain('--redis');
    }
    for (const command of [['queues'], ['dead', 'list'], ['dashboard']]) expect((await cli(...command, '--help')).stdout).toContain('--redis <url>');
    const refused = await cli('worker', '--redis', redis.url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unknown option '--redis'/);
  }, 180_000);

  it('says in one line that a dashboard or metrics port is taken', async () => {
    const port = await freePort();
    const busy: Server = await new Promise((resolve) => {
      const server = createServer().listen(port, '127.0.0.1', () => resolve(server));
    });
    try {
      expectOneLineError(await cli('dashboard', ...on(), '--port', String(port)), new RegExp(`--port ${port}: port ${port} on 127\\.0\\.0\\.1 is already in use; pass another --port`));
      expectOneLineError(await cli('worker', '--app', APP, '--metrics-port', String(port)), new RegExp(`--metrics-port ${port}: port ${port} .* is already in use`));
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  }, 180_000);

  it('prints queues as an aligned table, and JSON unchanged', async () => {
    const tablePrefix = `${prefix}t`;
    const app = createLagless({ redis: { url: redis.url, prefix: tablePrefix }, logger: false });
    onTestFinished(() => app.close());
    await app.store.jobPush({ queue: 'a-long-queue-name', jid: 'j1', raw: '{"jid":"j1","class":"W","args":{},"created_at":1}', nowMs: Date.now() });
    for (let i = 0; i < 12; i++) await app.store.jobPush({ queue: 'q', jid: `k${i}`, raw: `{"jid":"k${i}","class":"W","args":{},"created_at":1}`, nowMs: Date.now() });
    const table = await cli('queues', ...on(tablePrefix));
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(
      [
        'queue              ready  scheduled  retry  dead  in-flight  deferred  dedup-keys  paused',
        'a-long-queue-name      1          0      0     0          0         0           0',
        'q                     12          0      0     0          0         0           0',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await cli('queues', ...on(tablePrefix), '--json')).stdout) as unknown[];
    expect(json).toEqual([
      { queue: 'a-long-queue-name', ready: 1, scheduled: 0, retry: 0, dead: 0, inFlight: 0, dedupKeys: 0, deferred: 0, paused: false, pausedAt: null },
      { queue: 'q', ready: 12, scheduled: 0, retry: 0, dead: 0, inFlight: 0, dedupKeys: 0, deferred: 0, paused: false, pausedAt: null },
    ]);
  }, 180_000);

  it('names an unknown queue in dead list and retry-all, as the API does', async () => {
    await app.store.jobPush({ queue: 'q', jid: 'x1', raw: '{"jid":"x1","class":"W","args":{},"created_at":1}', nowMs: Date.now() });
    expectOneLineError(await cli('dead', 'list', '--queue', 'nope', ...on()), /^lagless: No queue 'nope'\. Known queues: .*\bq\b/);
    expectOneLineError(await cli('dead', 'retry-all', '--queue', 'nope', ...on()), /^lagless: No queue 'nope'\./);
    const known = await cli('dead', 'list', '--queue', 'q', ...on());
    expect(known).toMatchObject({ code: 0, stdout: '' });
    expect(known.stderr).toMatch(/No dead jobs in queue 'q'/);
  }, 180_000);
});
