import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareLsn, parseLsn } from '../../src/db/lsn.js';
import type { JobContext } from '../../src/index.js';
import { waitForReplay } from '../../src/sandbox/wait-for-replay.js';
import { waitFor } from '../helpers/log-capture.js';
import { READ_SQL, sleep, startLbEnv, type LbEnv, type ReadRecord } from '../support/lb-env.js';

describe('load-balanced jobs with a lagging replica', () => {
  let env: LbEnv;

  beforeAll(async () => {
    env = await startLbEnv();
    const { app } = env.app();
    await app.db('main').query('create table items (id int primary key, version int not null)');
    const { rows } = await app.db('main').query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn', [], { primary: true });
    await waitForReplay(env.cluster.replicaUrls[0]!, rows[0]!.lsn);
    await env.cluster.setApplyDelay(0, 1000);
  });

  afterAll(async () => env?.stop());

  function readers(app: ReturnType<LbEnv['app']>['app'], queue: string) {
    const records: ReadRecord[] = [];
    const perform = (worker: string) => async (args: { id: number; version: number }, ctx: JobContext) => {
      const { rows } = await ctx.db('main').query<{ version: number | null; on_replica: boolean }>(READ_SQL, [args.id]);
      records.push({ jid: ctx.jid, worker, expected: args.version, seen: rows[0]!.version, onReplica: rows[0]!.on_replica, strategy: ctx.job.load_balancing_strategy });
    };
    const Sticky = app.defineWorker({ name: 'StickyReader', queue, dataConsistency: 'sticky', perform: perform('sticky') });
    const Delayed = app.defineWorker({ name: 'DelayedReader', queue, dataConsistency: 'delayed', perform: perform('delayed') });
    return { records, Sticky, Delayed };
  }

  it('an enqueue inside a transaction is pushed after COMMIT, stamped after it, and the job sees the rows', async () => {
    const { app, queue } = env.app();
    const { records, Sticky, Delayed } = readers(app, queue);
    const db = app.db('main');
    const results = [];
    let beforeCommit = '';
    for (let id = 100; id < 110; id++) {
      results.push(
        await db.transaction(async (tx) => {
          await tx.query('insert into items values ($1, 1)', [id]);
          beforeCommit = (await tx.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0]!.lsn;
          const held = await Promise.all([Sticky.enqueue({ id, version: 1 }), Delayed.enqueue({ id, version: 1 })]);
          expect(await app.store.queueSizes(queue)).toMatchObject({ ready: (id - 100) * 2 }); // this pair is not in Redis before COMMIT
          return held;
        }),
      );
    }
    expect(results.flat().every((r) => r.heldUntilCommit === true && r.deduplicated === false)).toBe(true);
    const sizes = await app.store.queueSizes(queue);
    expect(sizes.ready).toBe(20);
    // The last transaction's jobs carry a position taken after its COMMIT record, not before it.
    const peek = await app.store.jobFetch({ queue, count: 20, token: 'peek', leaseMs: 60_000, nowMs: Date.now() });
    const last = peek.map((job) => JSON.parse(job.raw)).filter((job) => job.args.id === 109);
    expect(last).toHaveLength(2);
    for (const job of last) {
      expect(job).toMatchObject({ wal_location_sources: { main: 'primary' }, worker_data_consistency: expect.stringMatching(/^(sticky|delayed)$/) });
      expect(compareLsn(parseLsn(job.wal_locations.main), parseLsn(beforeCommit))).toBe(1);
    }
    // Put the peeked jobs back and run them against the 1 s behind replica.
    await app.store.jobRequeue({ queue, token: 'peek', jids: peek.map((job) => job.jid) });
    await app.worker({ queues: [queue], concurrency: 20, maintenanceIntervalMs: 50 }).start();
    await waitFor(() => records.length === 20, 10_000, '20 jobs');
    expect(records.filter((r) => r.seen !== 1)).toEqual([]);
  });

  it('an enqueue inside a transaction that rolls back is dropped; enqueueMany is held as a whole', async () => {
    const { app, queue } = env.app();
    const { records, Sticky } = readers(app, queue);
    const db = app.db('main');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into items values (200, 1)');
        expect((await Sticky.enqueue({ id: 200, version: 1 })).heldUntilCommit).toBe(true);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await db.query('select count(*)::int as n from items where id = 200', [], { primary: true })).rows[0]).toEqual({ n: 0 });

    const many = await db.transaction(async (tx) => {
      await tx.query('insert into items select g, 1 from generate_series(201, 205) g');
      return Sticky.enqueueMany([201, 202, 203, 204, 205].map((id) => ({ id, version: 1 })));
    });
    expect(many.map((r) => r.heldUntilCommit)).toEqual([true, true, true, true, true]);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 5 });
    await app.worker({ queues: [queue], maintenanceIntervalMs: 50 }).start();
    await waitFor(() => records.length === 5, 10_000, '5 jobs');
    expect(records.map((r) => r.jid).sort()).toEqual(many.map((r) => r.jid).sort());
    expect(records.filter((r) => r.seen !== 1)).toEqual([]);
    // The rolled-back enqueue never reached Redis.
    await sleep(100);
    expect(records.some((r) => r.expected === 1 && r.seen === null)).toBe(false);
    await waitFor(async () => (await app.store.queueSizes(queue)).inFlight === 0, 5000, 'acks');
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 0, inFlight: 0, scheduled: 0, retry: 0 });
  });

  it("'delayed' is snoozed first (no failure, no error), then runs replica_retried or on the primary", async () => {
    const { app, lines, queue } = env.app();
    const { records, Delayed } = readers(app, queue);
    await app.db('main').query('insert into items values (300, 1)');
    const { jid } = await Delayed.enqueue({ id: 300, version: 1 });
    await app.worker({ queues: [queue], maintenanceIntervalMs: 50 }).start();
    await waitFor(() => records.length === 1, 10_000, 'the delayed job');
    // The done line is written once the ack is back, a moment after perform returns.
    await waitFor(() => lines.some((l) => l.jid === jid && l.job_status === 'done'), 5000, 'done line');
    const mine = lines.filter((l) => l.jid === jid && l.job_status !== 'start');
    expect(mine.map((l) => [l.job_status, l.load_balancing_strategy])).toEqual([
      ['snoozed', 'retry'],
      ['done', expect.stringMatching(/^(replica_retried|primary)$/)],
    ]);
    expect(mine[1]).toMatchObject({ retry_count: 0, worker_data_consistency: 'delayed', wal_location_sources: { main: 'primary' }, wal_locations: { main: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/) } });
    expect(records[0]).toMatchObject({ seen: 1, strategy: mine[1]!.load_balancing_strategy, onReplica: mine[1]!.load_balancing_strategy === 'replica_retried' });
    expect(lines.filter((l) => (l.level as number) >= 50 || l.job_status === 'fail')).toEqual([]);
    const metrics = await app.metrics.metrics();
    expect(metrics).toMatch(/lagless_lb_decisions_total\{worker="DelayedReader",data_consistency="delayed",strategy="retry"\} 1/);
    expect(metrics).toMatch(/lagless_jobs_completed_total\{[^}]*status="snoozed"[^}]*\} 1/);
  });

  it("'sticky' waits a bounded time for the replica, then falls back to the primary", async () => {
    await env.cluster.setApplyDelay(0, 3000);
    try {
      const { app, lines, queue } = env.app();
      const { records, Sticky } = readers(app, queue);
      await app.db('main').query('insert into items values (400, 1)');
      const { jid } = await Sticky.enqueue({ id: 400, version: 1 });
      await app.worker({ queues: [queue], maintenanceIntervalMs: 50 }).start();
      await waitFor(() => records.length === 1, 10_000, 'the sticky job');
      await waitFor(() => lines.some((l) => l.jid === jid && l.job_status === 'done'), 1000, 'done line');
      expect(records[0]).toMatchObject({ seen: 1, onReplica: false, strategy: 'primary' });
      const done = lines.find((l) => l.jid === jid && l.job_status === 'done')!;
      expect(done).toMatchObject({ load_balancing_strategy: 'primary', worker_data_consistency: 'sticky' });
      // The wait is bounded (250 ms by default), far below the 3 s lag; no snooze for sticky.
      expect(done.duration_s as number).toBeGreaterThanOrEqual(0.2);
      expect(done.duration_s as number).toBeLessThan(1.5);
      expect(lines.some((l) => l.job_status === 'snoozed')).toBe(false);
    } finally {
      await env.cluster.setApplyDelay(0, 1000);
    }
  });
});
