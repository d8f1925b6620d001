import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';
import { bothStores } from '../helpers/stores.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

describe.each(bothStores(() => redis))('job log lines on the %s store', (_name, redisConfig) => {
  it('logs one done line per job by default, with every field of DESIGN §8 the job has and no start line', async () => {
    const { logger, lines } = captureLogs();
    const app = createLagless({ redis: redisConfig(), logger });
    const W = app.defineWorker({ name: 'QuietStartWorker', queue: 'logs', perform: () => undefined });
    const { jid } = await W.enqueue({ n: 1 });
    await app.worker({ queues: ['logs'] }).start();
    await waitFor(() => lines.some((l) => l.jid === jid && l.job_status === 'done'), 5000, 'the done line');
    await app.close();
    const mine = lines.filter((l) => l.jid === jid);
    expect(mine.map((l) => l.job_status)).toEqual(['done']);
    expect(mine[0]).toMatchObject({ class: 'QuietStartWorker', queue: 'logs', retry_count: 0, msg: 'done' });
    expect(mine[0]!.duration_s).toEqual(expect.any(Number));
    expect(mine[0]!.scheduling_latency_s).toEqual(expect.any(Number));
    // Only fields the job has: an absent idempotency key is left out, not written as undefined.
    expect(Object.keys(mine[0]!)).not.toContain('idempotency_key');
  });

  it('logs a start line before the done line with logJobStart: true', async () => {
    const { logger, lines } = captureLogs();
    const app = createLagless({ redis: redisConfig(), logger, logJobStart: true });
    const W = app.defineWorker({ name: 'LoudStartWorker', queue: 'logs', perform: () => undefined });
    const { jid } = await W.enqueue({ n: 1 });
    await app.worker({ queues: ['logs'] }).start();
    await waitFor(() => lines.some((l) => l.jid === jid && l.job_status === 'done'), 5000, 'the done line');
    await app.close();
    const mine = lines.filter((l) => l.jid === jid);
    expect(mine.map((l) => l.job_status)).toEqual(['start', 'done']);
    expect(mine[0]).toMatchObject({ class: 'LoudStartWorker', queue: 'logs', retry_count: 0, msg: 'start', scheduling_latency_s: expect.any(Number) });
  });
});

it('rejects a logJobStart that is not a boolean, naming the option', () => {
  expect(() => createLagless({ logJobStart: 'yes' as unknown as boolean })).toThrow(/logJobStart/);
});

describe('the default logger loses no line', () => {
  const JOBS = 500; // about 100 KB of lines: many buffered chunks, and a last one smaller than the buffer
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lagless-logs-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runFixture(mode: string, logFile?: string) {
    const child = fork(new URL('../fixtures/logging-worker.ts', import.meta.url).pathname, [], {
      env: { ...process.env, JOBS: String(JOBS), MODE: mode, ...(logFile ? { LOG_FILE: logFile } : {}) },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const message = new Promise<unknown>((resolve) => child.once('message', resolve));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    return { child, message, exited, stdout: () => stdout };
  }

  const doneLines = (text: string): number => text.split('\n').filter((line) => line.includes('"job_status":"done"')).length;

  it('has written every line to its destination when app.close() resolves', async () => {
    const file = join(dir, 'close.log');
    const run = runFixture('close', file);
    expect(await run.message).toEqual({ doneLines: JOBS });
    expect((await run.exited).code).toBe(0);
  });

  it('writes every line out when the process calls process.exit() without closing anything, the line just before too', async () => {
    const file = join(dir, 'exit.log');
    const run = runFixture('exit', file);
    expect((await run.exited).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(doneLines(text)).toBe(JOBS);
    expect(text.trimEnd().split('\n').at(-1)).toContain('"msg":"the last line"');
  });

  it('writes every line out on SIGTERM when the app has no handler, and still dies by the signal', async () => {
    const file = join(dir, 'signal.log');
    const run = runFixture('signal', file);
    expect(await run.message).toBe('logged');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(doneLines(readFileSync(file, 'utf8'))).toBe(JOBS);
  });

  it('a process that logs N jobs on stdout and stops gracefully on SIGTERM has all N lines', async () => {
    const run = runFixture('graceful');
    expect(await run.message).toBe('logged');
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    expect(doneLines(run.stdout())).toBe(JOBS);
    expect(run.stdout()).toContain('"msg":"worker stopped"');
  });
});
