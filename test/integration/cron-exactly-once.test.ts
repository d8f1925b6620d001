import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/sandbox/redis-server.js';

let redis: RedisServerHandle;
beforeAll(async () => (redis = await startRedisServer()));
afterAll(async () => redis.stop());

const TICK_MS = Date.parse('2026-03-02T10:01:00.000Z');
const LEASE_MS = 1000;

interface Claimer {
  child: ChildProcess;
  /** Log lines (pino JSON) as they arrive. */
  lines: { msg?: string; tick_ms?: number; jid?: string }[];
  /** Resolves with the jid of the first cron job this process claimed and stopped before pushing (STALL=1). */
  claimed: Promise<string>;
  waitFor: (msg: string) => Promise<{ tick_ms?: number; jid?: string }>;
}

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});

async function spawnClaimer(env: Record<string, string>, stall: boolean, atMs: number): Promise<Claimer> {
  const child = fork(new URL('../fixtures/cron-claimer.ts', import.meta.url).pathname, [], {
    env: { ...process.env, ...env, AT_MS: String(atMs), STALL: stall ? '1' : '0', LEASE_MS: String(LEASE_MS) },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push(child);
  const lines: Claimer['lines'] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as Claimer['lines'][number]);
    for (const listener of listeners) listener();
  });
  const waitFor = (msg: string): Promise<{ tick_ms?: number; jid?: string }> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no '${msg}' logged within 20 s`));
      }, 20_000);
      const check = (): void => {
        const found = lines.find((line) => line.msg?.startsWith(msg));
        if (!found) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(found);
      };
      listeners.add(check);
      check();
    });
  const claimed = new Promise<string>((resolve) => child.on('message', (m: { claimed?: string }) => m.claimed && resolve(m.claimed)));
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`cron claimer exited with ${code} before it started`)));
  });
  return { child, lines, claimed, waitFor };
}

async function setup(): Promise<{ env: Record<string, string>; queue: string; readyJids: () => Promise<string[]>; lastJid: () => Promise<string | undefined>; close: () => Promise<void> }> {
  const prefix = `once${randomBytes(3).toString('hex')}`;
  const queue = 'minutes';
  const app = createLagless({ redis: { url: redis.url, prefix }, logger: false });
  return {
    env: { REDIS_URL: redis.url, PREFIX: prefix, QUEUE: queue },
    queue,
    readyJids: async () => (await app.store.jobList({ queue, state: 'ready', offset: 0, limit: 100 })).map((job) => job.jid),
    lastJid: async () => (await app.store.scheduleStates(['every-minute']))[0]!.lastJid,
    close: () => app.close(),
  };
}

/** Start the first claimer half a minute before the tick, let it register the schedule, then move its clock to the tick. */
async function claimTheTick(env: Record<string, string>): Promise<{ first: Claimer; jid: string }> {
  const first = await spawnClaimer(env, true, TICK_MS - 30_000);
  await first.waitFor('cron schedule registered');
  first.child.send({ at: TICK_MS });
  return { first, jid: await first.claimed };
}

describe('a cron tick is enqueued exactly once whatever happens to the process that claimed it', () => {
  it('enqueues the tick of a claimer SIGKILLed between its claim and its push, once, from another process', async () => {
    const { env, readyJids, lastJid, close } = await setup();
    try {
      const { first } = await claimTheTick(env);
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      expect(await readyJids()).toEqual([]);

      // Another process, on the same clock, finds the tick claimed but pending, and takes it over once the lease ends.
      const second = await spawnClaimer(env, false, TICK_MS + 50);
      const enqueued = await second.waitFor('cron tick enqueued');
      expect(enqueued.tick_ms).toBe(TICK_MS);
      expect(await readyJids()).toEqual([enqueued.jid]);
      expect(await lastJid()).toBe(enqueued.jid);

      // A third one started later finds the tick done: still one job.
      const third = await spawnClaimer(env, false, TICK_MS + 3000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(third.lines.filter((line) => line.msg === 'cron tick enqueued')).toEqual([]);
      expect(await readyJids()).toEqual([enqueued.jid]);
    } finally {
      await close();
    }
  }, 60_000);

  it('does not enqueue twice when the claimer was only slow and its lease was taken over', async () => {
    const { env, readyJids, lastJid, close } = await setup();
    try {
      const { first, jid: slowJid } = await claimTheTick(env);
      const second = await spawnClaimer(env, false, TICK_MS + 50);
      const enqueued = await second.waitFor('cron tick enqueued');
      expect(enqueued.tick_ms).toBe(TICK_MS);

      // The slow claimer wakes up and pushes: the tick is taken, nothing more is queued.
      first.child.send('go');
      const taken = await first.waitFor('cron tick already enqueued by another scheduler (its claim lapsed and was taken over); nothing enqueued');
      expect(taken.jid).toBe(enqueued.jid);
      expect(first.lines.filter((line) => line.msg === 'cron tick enqueued')).toEqual([]);
      expect(await readyJids()).toEqual([enqueued.jid]);
      expect(await readyJids()).not.toContain(slowJid);
      expect(await lastJid()).toBe(enqueued.jid);
    } finally {
      await close();
    }
  }, 60_000);
});
