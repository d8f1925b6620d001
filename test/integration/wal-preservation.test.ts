import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESERVE_LATEST_WAL_FLAG, type EnqueueResult, type JobContext, type LaglessApp } from '../../src/index.js';
import { waitForReplay } from '../../src/sandbox/wait-for-replay.js';
import { waitFor } from '../helpers/log-capture.js';
import { startLbEnv, type LbEnv } from '../support/lb-env.js';

// The proof of issue 6 against a real primary and a streaming replica that applies WAL 1.5 s late.
const APPLY_DELAY_MS = 1500;
const READ = 'select (select v from users where id = $1) as v, pg_is_in_recovery() as on_replica';

interface Read {
  jid: string;
  userId: number;
  v: number;
  onReplica: boolean;
  strategy: string | undefined;
  dedupWal: Record<string, string> | undefined;
}

describe(`${PRESERVE_LATEST_WAL_FLAG}: a deduplicated job carries the latest WAL location of everything it absorbed`, () => {
  let env: LbEnv;
  let nextUser = 1;

  beforeAll(async () => {
    env = await startLbEnv({ applyDelayMs: APPLY_DELAY_MS });
    const { app } = env.app();
    await app.migrate();
    await app.db('main').query('create table users (id int primary key, v int not null)');
    const { rows } = await app.db('main').query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn', [], { primary: true });
    await waitForReplay(env.cluster.replicaUrls[0]!, rows[0]!.lsn);
  });
  afterAll(async () => env?.stop());

  /** An app whose refresh worker records what it read; `stamped` holds every enqueue's WAL location. */
  async function setup(flagOn: boolean, dataConsistency: 'sticky' | 'delayed', variant: { store?: 'redis' | 'memory'; strategy?: 'until_executing' | 'until_executed' } = {}) {
    const { app, lines, queue } = env.app(variant.store === 'memory' ? { redis: undefined } : {});
    await app.flags.set(PRESERVE_LATEST_WAL_FLAG, flagOn, { by: 'test' });
    expect(app.flags.enabled(PRESERVE_LATEST_WAL_FLAG)).toBe(flagOn);
    const stamped: string[] = [];
    app.clientMiddleware.insertAfter('load_balancing', 'record_wal', async (context, next) => {
      stamped.push(context.job.wal_locations!.main!);
      return next();
    });
    const reads: Read[] = [];
    const Refresh = app.defineWorker({
      name: 'UserCacheRefreshWorker',
      queue,
      idempotent: true,
      deduplicate: { strategy: variant.strategy ?? 'until_executing' },
      dataConsistency,
      perform: async (args: { userId: number }, ctx: JobContext) => {
        const { rows } = await ctx.db('main').query<{ v: number; on_replica: boolean }>(READ, [args.userId]);
        reads.push({ jid: ctx.jid, userId: args.userId, v: rows[0]!.v, onReplica: rows[0]!.on_replica, strategy: ctx.job.load_balancing_strategy, dedupWal: ctx.job.dedup_wal_locations });
      },
    });
    /** The application's request: write version `v` of the user on the primary, then enqueue a refresh. */
    const writeAndEnqueue = (userId: number, v: number): Promise<EnqueueResult> =>
      app.databases!.sessions.run(async () => {
        await app.db('main').query('insert into users values ($1, $2) on conflict (id) do update set v = $2', [userId, v]);
        return Refresh.enqueue({ userId });
      });
    return { app, lines, queue, stamped, reads, writeAndEnqueue };
  }

  async function replicaValue(userId: number): Promise<number | undefined> {
    const client = new pg.Client(env.cluster.replicaUrls[0]);
    await client.connect();
    try {
      return (await client.query<{ v: number }>('select v from users where id = $1', [userId])).rows[0]?.v;
    } finally {
      await client.end();
    }
  }

  const start = (app: LaglessApp, queue: string) => app.worker({ queues: [queue], concurrency: 10, maintenanceIntervalMs: 50 }).start();

  it.each([
    ['redis', 'until_executing'],
    ['memory', 'until_executed'],
  ] as const)('flag on (%s store, %s): 20 writes absorbed within the lag window; the job reads v20, logs the last LSN, runs on the caught-up replica', async (store, strategy) => {
    const { app, lines, queue, stamped, reads, writeAndEnqueue } = await setup(true, 'delayed', { store, strategy });
    const user = nextUser++;
    const results: EnqueueResult[] = [];
    for (let v = 1; v <= 20; v++) results.push(await writeAndEnqueue(user, v));
    expect(results.map((r) => r.deduplicated)).toEqual([false, ...Array<boolean>(19).fill(true)]);
    expect(results.slice(1).every((r) => r.duplicateOf === results[0]!.jid)).toBe(true);
    expect(await replicaValue(user)).toBeUndefined(); // still inside the lag window: the replica has none of it

    await waitForReplay(env.cluster.replicaUrls[0]!, stamped[19]!);
    await start(app, queue);
    await waitFor(() => reads.length === 1, 10_000, 'the job');
    expect(reads[0]).toMatchObject({ jid: results[0]!.jid, v: 20, onReplica: true, strategy: 'replica', dedupWal: { main: stamped[19] } });
    await waitFor(() => lines.some((l) => l.job_status === 'done'), 5000, 'the done line');
    const done = lines.find((l) => l.job_status === 'done')!;
    expect(done).toMatchObject({ dedup_wal_locations: { main: stamped[19] }, wal_locations: { main: stamped[0] }, load_balancing_strategy: 'replica' });
    expect(await app.metrics.metrics()).toMatch(/lagless_dedup_wal_location_updates_total\{database="main"\} 19/);
  });

  it('flag off reads the stale v1 from the replica; the same steps with the flag on read v2', async () => {
    const outcome: Record<string, Read> = {};
    for (const flagOn of [false, true]) {
      const { app, queue, stamped, reads, writeAndEnqueue } = await setup(flagOn, 'sticky');
      const user = nextUser++;
      await writeAndEnqueue(user, 1);
      await waitForReplay(env.cluster.replicaUrls[0]!, stamped[0]!);
      expect((await writeAndEnqueue(user, 2)).deduplicated).toBe(true);
      await start(app, queue);
      await waitFor(() => reads.length === 1, 10_000, 'the job');
      outcome[flagOn ? 'on' : 'off'] = reads[0]!;
    }
    // Off: the job trusts its own (older) LSN, the replica has it, so it reads v1 — the stale read.
    expect(outcome.off).toMatchObject({ v: 1, onReplica: true, strategy: 'replica' });
    // On: the cookie holds v2's LSN, the replica is 1.5 s behind it, so sticky falls back to the primary.
    expect(outcome.on).toMatchObject({ v: 2, onReplica: false, strategy: 'primary' });
  });

  it('flag flipped while jobs are queued: no crash; each job decides with what its cookie holds', async () => {
    const { app, lines, queue, stamped, reads, writeAndEnqueue } = await setup(true, 'sticky');
    const users = [nextUser++, nextUser++, nextUser++, nextUser++];
    for (const user of users) await writeAndEnqueue(user, 1);
    for (const user of users) await writeAndEnqueue(user, 2);
    const raisedTo = new Map(users.map((user, i) => [user, stamped[users.length + i]!]));
    await app.flags.set(PRESERVE_LATEST_WAL_FLAG, false, { by: 'test' });
    for (const user of users) expect((await writeAndEnqueue(user, 3)).deduplicated).toBe(true);
    await start(app, queue);
    await waitFor(() => reads.length === users.length, 10_000, 'every job');
    expect(lines.some((l) => l.job_status === 'fail')).toBe(false);
    for (const read of reads) {
      expect(read.dedupWal).toEqual({ main: raisedTo.get(read.userId) });
      expect(read.v).toBeGreaterThanOrEqual(2);
    }
  });

  it('an unparsable LSN in a twin never crashes the script or the worker: logged, and the job runs on the primary', async () => {
    const { app, lines, queue, reads, writeAndEnqueue } = await setup(true, 'delayed');
    const user = nextUser++;
    await writeAndEnqueue(user, 1);
    app.clientMiddleware.insertBefore('deduplication', 'corrupt_wal', async (context, next) => {
      context.job.wal_locations = { main: 'not-an-lsn' };
      return next();
    });
    expect((await writeAndEnqueue(user, 2)).deduplicated).toBe(true);
    await start(app, queue);
    await waitFor(() => reads.length === 1, 10_000, 'the job');
    expect(reads[0]).toMatchObject({ v: 2, onReplica: false, strategy: 'primary', dedupWal: { main: 'invalid' } });
    expect(lines.some((l) => l.level === 40 && /unusable WAL location/.test(String(l.msg)))).toBe(true);
    expect(lines.some((l) => l.job_status === 'fail')).toBe(false);
  });

  it('many workers, 1,000 users, bursts of duplicates: zero stale reads with the flag on', async () => {
    const { app, queue, reads, writeAndEnqueue } = await setup(true, 'delayed');
    const first = nextUser;
    nextUser += 1000;
    const workers = [app.worker({ queues: [queue], concurrency: 25, maintenanceIntervalMs: 50 }), app.worker({ queues: [queue], concurrency: 25, maintenanceIntervalMs: 50 })];
    // Every enqueue is covered by the job it created or the job that absorbed it; that job must read at least
    // the version written just before the enqueue.
    const required = new Map<string, number>();
    let enqueues = 0;
    for (let burst = 1; burst <= 3; burst++) {
      // The second burst meets every job of the first still waiting (absorbed for sure); the third races the workers.
      if (burst === 3) await Promise.all(workers.map((w) => w.start()));
      await Promise.all(
        Array.from({ length: 10 }, async (_, lane) => {
          for (let i = lane; i < 1000; i += 10) {
            const result = await writeAndEnqueue(first + i, burst);
            const owner = result.duplicateOf ?? result.jid;
            required.set(owner, Math.max(required.get(owner) ?? 0, burst));
            enqueues++;
          }
        }),
      );
    }
    await waitFor(() => reads.length === required.size, 60_000, 'every job');
    await Promise.all(workers.map((w) => w.stop()));
    const stale = reads.filter((r) => r.v < required.get(r.jid)!);
    expect(stale).toEqual([]);
    const onReplica = reads.filter((r) => r.onReplica).length;
    console.log(`1,000 users, ${enqueues} enqueues, ${reads.length} jobs ran (${enqueues - reads.length} absorbed), ${stale.length} stale reads, ${((100 * onReplica) / reads.length).toFixed(1)} % on the replica`);
    expect(enqueues - reads.length).toBeGreaterThanOrEqual(1000);
  }, 120_000);
});
