import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForReplay } from '../../src/sandbox/wait-for-replay.js';
import { waitFor } from '../helpers/log-capture.js';
import { READ_SQL, startLbEnv, type LbEnv, type ReadRecord } from '../support/lb-env.js';

const APPLY_DELAY_MS = 1500;

describe('replica-aware jobs never read data older than what caused them', () => {
  let env: LbEnv;

  beforeAll(async () => {
    env = await startLbEnv({ applyDelayMs: APPLY_DELAY_MS });
    const { app } = env.app();
    await app.db('main').query('create table items (id int primary key, version int not null)');
    const { rows } = await app.db('main').query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn', [], { primary: true });
    await waitForReplay(env.cluster.replicaUrls[0]!, rows[0]!.lsn);
  });

  afterAll(async () => env?.stop());

  it('200 sticky and delayed jobs, each enqueued right after a write, all see that write; some run on the replica', async () => {
    const { app, lines, queue } = env.app();
    const records: ReadRecord[] = [];
    const perform = (worker: string) => async (args: { id: number; version: number }, ctx: Parameters<Parameters<typeof app.defineWorker>[0]['perform']>[1]) => {
      const { rows } = await ctx.db('main').query<{ version: number | null; on_replica: boolean }>(READ_SQL, [args.id]);
      records.push({ jid: ctx.jid, worker, expected: args.version, seen: rows[0]!.version, onReplica: rows[0]!.on_replica, strategy: ctx.job.load_balancing_strategy });
    };
    const Sticky = app.defineWorker({ name: 'StickyReader', queue, dataConsistency: 'sticky', perform: perform('sticky') });
    const Delayed = app.defineWorker({ name: 'DelayedReader', queue, dataConsistency: 'delayed', perform: perform('delayed') });
    const worker = app.worker({ queues: [queue], concurrency: 50, maintenanceIntervalMs: 50 });
    await worker.start();

    // 100 "requests": each bumps a row (25 ids, so later writes make earlier versions old), then enqueues one job
    // of each kind. Due times spread over 0-2.5 s put jobs before, around and after the 1.5 s replica lag.
    const db = app.db('main');
    for (let i = 0; i < 100; i++) {
      await app.databases!.sessions.run(async () => {
        const id = i % 25;
        const { rows } = await db.query<{ version: number }>('insert into items values ($1, 1) on conflict (id) do update set version = items.version + 1 returning version', [id]);
        const args = { id, version: rows[0]!.version };
        const delayMs = (i * 37) % 2500;
        await Promise.all(delayMs < 300 ? [Sticky.enqueue(args), Delayed.enqueue(args)] : [Sticky.enqueueIn(delayMs, args), Delayed.enqueueIn(delayMs, args)]);
      });
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => records.length === 200, 20_000, '200 jobs');
    await worker.stop();

    const stale = records.filter((r) => r.seen === null || r.seen < r.expected);
    expect(stale).toEqual([]);
    expect(records.filter((r) => r.onReplica).length).toBeGreaterThan(0);
    expect(records.filter((r) => !r.onReplica).length).toBeGreaterThan(0);
    // Where the read ran agrees with the decision, for both kinds.
    for (const r of records) expect(r.onReplica).toBe(r.strategy === 'replica' || r.strategy === 'replica_retried');
    const strategies = new Set(records.map((r) => `${r.worker}:${r.strategy}`));
    expect(strategies).toContain('sticky:replica');
    expect(strategies).toContain('sticky:primary');
    expect([...strategies].some((s) => s === 'delayed:replica_retried' || s === 'delayed:primary')).toBe(true);
    expect(lines.filter((l) => l.job_status === 'fail')).toEqual([]);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    // Every delayed job that ran on the primary or retried was snoozed once first (a 'retry' decision, not a failure).
    const snoozed = lines.filter((l) => l.job_status === 'snoozed');
    expect(snoozed.every((l) => l.load_balancing_strategy === 'retry' && l.class === 'DelayedReader')).toBe(true);
    expect(snoozed.length).toBe(records.filter((r) => r.strategy === 'replica_retried' || (r.worker === 'delayed' && r.strategy === 'primary')).length);
    // The store counts every decision of a settled execution (what the dashboard shows for all workers).
    const counted = (await app.store.queueCounters(queue)).decisions;
    const decided = (strategy: string): number => records.filter((r) => r.strategy === strategy).length;
    expect(counted).toEqual(Object.fromEntries(Object.entries({ replica: decided('replica'), replica_retried: decided('replica_retried'), primary: decided('primary'), retry: snoozed.length }).filter(([, n]) => n > 0)));
  });
});
