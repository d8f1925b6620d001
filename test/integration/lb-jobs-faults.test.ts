import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLagless, DatabaseUnavailableError, InvalidOptionError, UnknownDatabaseError, type JobContext } from '../../src/index.js';
import { freePort } from '../../src/sandbox/redis-server.js';
import { waitForReplay } from '../../src/sandbox/wait-for-replay.js';
import { captureLogs, waitFor } from '../helpers/log-capture.js';
import { READ_SQL, sleep, startLbEnv, type LbEnv } from '../support/lb-env.js';

describe('load-balanced jobs: routing, bad input and faults', () => {
  let env: LbEnv;

  beforeAll(async () => {
    env = await startLbEnv();
    const { app } = env.app();
    await app.db('main').query('create table items (id int primary key, version int not null)');
    await app.db('main').query('insert into items select g, 1 from generate_series(1, 10) g');
  });

  afterAll(async () => env?.stop());

  async function caughtUp(app: ReturnType<LbEnv['app']>['app']): Promise<void> {
    const { rows } = await app.db('main').query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn', [], { primary: true });
    await waitForReplay(env.cluster.replicaUrls[0]!, rows[0]!.lsn);
  }

  it('routes ctx.db to the chosen replica until the first write, then to the primary; logs the decision', async () => {
    const { app, lines, queue } = env.app();
    const seen: unknown[] = [];
    const Sticky = app.defineWorker({
      name: 'StickyRouting',
      queue,
      dataConsistency: 'sticky',
      perform: async (_args: object, ctx: JobContext) => {
        const where = async () => (await ctx.db('main').query<{ on_replica: boolean }>(READ_SQL, [1])).rows[0]!.on_replica;
        // ctx.db(..).pool (for query builders) routes like ctx.db(..).query.
        const poolOnReplica = async () => (await ctx.db('main').pool.query<{ on_replica: boolean }>('select pg_is_in_recovery() as on_replica')).rows[0]!.on_replica;
        seen.push(ctx.job.load_balancing_strategy, await poolOnReplica(), await where());
        await ctx.db('main').query('update items set version = version + 1 where id = 1');
        seen.push(ctx.db('main').pool === app.databases!.balancer('main').primary.pool, await where());
      },
    });
    const Always = app.defineWorker({ name: 'AlwaysRouting', queue, perform: async (_args: object, ctx: JobContext) => void seen.push(ctx.job.load_balancing_strategy, await (async () => (await ctx.db('main').query<{ on_replica: boolean }>(READ_SQL, [1])).rows[0]!.on_replica)()) });
    const sticky = await Sticky.enqueue({});
    await caughtUp(app);
    await app.worker({ queues: [queue], concurrency: 1 }).start();
    await waitFor(() => seen.length === 5, 5000, 'sticky job');
    expect(seen).toEqual(['replica', true, true, true, false]);
    const always = await Always.enqueue({});
    await waitFor(() => seen.length === 7, 5000, 'always job');
    expect(seen.slice(5)).toEqual(['primary', false]);

    await waitFor(() => lines.filter((l) => l.job_status === 'done').length === 2, 2000, 'done lines');
    const done = (jid: string) => lines.find((l) => l.jid === jid && l.job_status === 'done')!;
    expect(done(sticky.jid)).toMatchObject({ load_balancing_strategy: 'replica', worker_data_consistency: 'sticky', wal_location_sources: { main: 'primary' }, wal_locations: { main: expect.any(String) } });
    // 'always' workers are not stamped at enqueue: no WAL, no consistency in the payload.
    expect(done(always.jid)).toMatchObject({ load_balancing_strategy: 'primary' });
    expect(done(always.jid)).not.toHaveProperty('wal_locations');
    expect(await app.metrics.metrics()).toMatch(/lagless_lb_decisions_total\{worker="StickyRouting",data_consistency="sticky",strategy="replica"\} 1/);
  });

  it('dataConsistencyFlag off: not stamped, runs on the primary; on: stamped and load balanced', async () => {
    const definitions = new URL('../fixtures/lb_feature_flags', import.meta.url).pathname;
    const { app, lines, queue } = env.app({ flags: { definitions, environment: 'test' } });
    await app.migrate();
    expect(app.clientMiddleware.names()).toEqual(['load_balancing', 'deduplication']);
    expect(app.serverMiddleware.names()).toContain('load_balancing');
    const W = app.defineWorker({ name: 'FlaggedSticky', queue, dataConsistency: 'sticky', dataConsistencyFlag: 'replica_reads', perform: () => undefined });
    const off = await W.enqueue({});
    await app.flags.set('replica_reads', true, { by: 'test' });
    const on = await W.enqueue({});
    await caughtUp(app);
    await app.worker({ queues: [queue], concurrency: 1 }).start();
    await waitFor(() => lines.filter((l) => l.job_status === 'done').length === 2, 5000, 'two jobs done');
    const done = (jid: string) => lines.find((l) => l.jid === jid && l.job_status === 'done')!;
    // Evaluated again at execution: the flag is on now, but the first job carries no WAL to prove a replica has.
    expect(done(off.jid)).toMatchObject({ load_balancing_strategy: 'primary_no_wal' });
    expect(done(off.jid)).not.toHaveProperty('wal_locations');
    expect(done(on.jid)).toMatchObject({ load_balancing_strategy: 'replica', worker_data_consistency: 'sticky', wal_locations: { main: expect.any(String) } });
  });

  it('decides from dedup_wal_locations when present, and runs a payload with an invalid LSN on the primary with a warning', async () => {
    const { app, lines, queue } = env.app();
    const ran: { jid: string; strategy?: string }[] = [];
    app.defineWorker({ name: 'StickyForeign', queue, dataConsistency: 'sticky', perform: (_args: unknown, ctx: JobContext) => void ran.push({ jid: ctx.jid, strategy: ctx.job.load_balancing_strategy }) });
    await caughtUp(app);
    const now = Date.now();
    const push = (jid: string, extra: object) => app.store.jobPush({ queue, jid, raw: JSON.stringify({ jid, class: 'StickyForeign', args: {}, created_at: now / 1000, ...extra }), nowMs: now, runAtMs: undefined, dedup: undefined });
    await push('bad-lsn', { wal_locations: { main: '16/B374D848/oops' } });
    await push('bad-type', { wal_locations: { main: 42 } });
    // The cookie's position (far ahead) wins over the job's own (long replayed): the replica cannot serve it.
    await push('dedup-ahead', { wal_locations: { main: '0/1' }, dedup_wal_locations: { main: 'FFFF/0' } });
    await push('good', { wal_locations: { main: '0/1' } });
    await app.worker({ queues: [queue], concurrency: 1 }).start();
    // Done lines are written once the ack is back, after perform: wait for them, not for the runs.
    await waitFor(() => lines.filter((l) => l.job_status === 'done').length === 4, 5000, 'four jobs done');
    expect(Object.fromEntries(ran.map((r) => [r.jid, r.strategy]))).toEqual({ 'bad-lsn': 'primary', 'bad-type': 'primary', 'dedup-ahead': 'primary', good: 'replica' });
    const warnings = lines.filter((l) => l.level === 40 && /unusable WAL location/.test(String(l.msg)));
    expect(warnings.map((l) => l.jid).sort()).toEqual(['bad-lsn', 'bad-type']);
    expect(warnings[0]).toMatchObject({ reason: expect.stringMatching(/is not a PostgreSQL LSN/), load_balancing_strategy: 'primary' });
    expect(lines.find((l) => l.jid === 'dedup-ahead' && l.job_status === 'done')).toMatchObject({ dedup_wal_locations: { main: 'FFFF/0' }, load_balancing_strategy: 'primary' });
    expect(lines.filter((l) => l.job_status === 'fail' || (l.level as number) >= 50)).toEqual([]);
  });

  it('ctx.db and app.db with an unknown name throw UnknownDatabaseError; so does ctx.db without databases', async () => {
    const { app, lines, queue } = env.app();
    expect(() => app.db('nope')).toThrow(UnknownDatabaseError);
    expect(() => app.db('nope')).toThrow("Database 'nope' is not configured. Configured: 'main'.");
    const W = app.defineWorker({ name: 'UnknownDb', queue, retry: false, perform: (_args: object, ctx: JobContext) => ctx.db('nope').query('select 1') });
    const { jid } = await W.enqueue({});
    await app.worker({ queues: [queue] }).start();
    await waitFor(() => lines.some((l) => l.jid === jid && l.job_status === 'fail'), 5000, 'fail line');
    expect(lines.find((l) => l.jid === jid && l.job_status === 'fail')).toMatchObject({ error_class: 'UnknownDatabaseError', dead: true });

    const { logger } = captureLogs();
    const plain = createLagless({ logger });
    const errors: unknown[] = [];
    const P = plain.defineWorker({ name: 'NoDatabases', queue, perform: (_args: object, ctx: JobContext) => void errors.push((() => { try { ctx.db('main'); } catch (error) { return error; } })()) });
    await P.enqueue({});
    await plain.worker({ queues: [queue] }).start();
    await waitFor(() => errors.length === 1, 5000, 'job without databases');
    expect(errors[0]).toBeInstanceOf(UnknownDatabaseError);
    expect(() => plain.db('main')).toThrow(/Configured: none/);
    await plain.close();
  });

  it('an unreachable primary at enqueue fails the enqueue with DatabaseUnavailableError and pushes nothing', async () => {
    const deadPrimary = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    const { app, queue } = env.app({ databases: { main: { primary: deadPrimary, replicas: env.cluster.replicaUrls } } });
    const Sticky = app.defineWorker({ name: 'StickyDeadPrimary', queue, dataConsistency: 'sticky', perform: () => undefined });
    const Always = app.defineWorker({ name: 'AlwaysDeadPrimary', queue, perform: () => undefined });
    const failed = await Sticky.enqueue({}).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(DatabaseUnavailableError);
    expect((failed as Error).message).toMatch(/^Database 'main' primary at 127\.0\.0\.1:\d+ is unreachable \(.+\)\. Nothing was enqueued; check the primary and retry\. Waits are bounded by databases\.main\.connectTimeoutMs \(2000 ms\)\.$/);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 0, scheduled: 0 });
    // A worker that is not load balanced needs no WAL position, so it can still be enqueued.
    expect((await Always.enqueue({})).deduplicated).toBe(false);
    expect(await app.store.queueSizes(queue)).toMatchObject({ ready: 1 });
  });

  it('rejects invalid databases config with the option path', () => {
    expect(() => createLagless({ logger: false, databases: { main: { primary: 'mysql://x' } } })).toThrow(InvalidOptionError);
    expect(() => createLagless({ logger: false, databases: { main: { primary: 'mysql://x' } } })).toThrow(/databases\.main\.primary: must be a postgres:\/\//);
    expect(() => createLagless({ logger: false, databases: { 'ma in': { primary: 'postgres://x/y' } } })).toThrow(/databases\.ma in: 'ma in' is not a usable database name/);
    expect(() => createLagless({ logger: false, databases: { main: { primary: 'postgres://x/y', maxReplicationLagBytes: -1 } } as never })).toThrow(/databases\.main\.maxReplicationLagBytes/);
    expect(() => createLagless({ logger: false, databases: { main: { primary: 'postgres://x/y', replicas: ['postgres://r/y'], discover: { record: 'r.local', type: 'A' } } } })).toThrow(/either replicas .* or discover/);
    expect(() => createLagless({ logger: false, databases: { main: { primary: 'postgres://x/y', replica: [] } } as never })).toThrow(/databases\.main/);
  });

  it('keeps completing jobs on the primary while the replica is down, and returns to it once it is back', async () => {
    const { app, lines, queue } = env.app();
    const runs: { phase: string; onReplica: boolean; seen: number | null }[] = [];
    let phase = 'before';
    const Sticky = app.defineWorker({
      name: 'StickyFaults',
      queue,
      dataConsistency: 'sticky',
      perform: async (args: { id: number }, ctx: JobContext) => {
        const { rows } = await ctx.db('main').query<{ version: number | null; on_replica: boolean }>(READ_SQL, [args.id]);
        runs.push({ phase, onReplica: rows[0]!.on_replica, seen: rows[0]!.version });
      },
    });
    await app.worker({ queues: [queue], concurrency: 5 }).start();
    let stop = false;
    let enqueued = 0;
    const producer = (async () => {
      for (let i = 0; !stop; i++) {
        const id = 1000 + i;
        await app.db('main').query('insert into items values ($1, 1)', [id]);
        await Sticky.enqueue({ id });
        enqueued++;
        await sleep(15);
      }
    })();
    const onReplicaIn = (p: string) => runs.filter((r) => r.phase === p && r.onReplica).length;
    await waitFor(() => onReplicaIn('before') >= 5, 10_000, 'jobs on the replica');
    phase = 'down';
    await env.cluster.stopReplica(0);
    const downAt = runs.length;
    await waitFor(() => runs.length >= downAt + 20, 10_000, 'jobs completing while the replica is down');
    const afterDown = runs.slice(downAt + 5); // the first few may have been decided before the stop
    expect(afterDown.every((r) => !r.onReplica)).toBe(true);
    phase = 'back';
    await env.cluster.startReplica(0);
    await waitFor(() => onReplicaIn('back') >= 5, 15_000, 'jobs back on the replica');
    stop = true;
    await producer;
    await waitFor(() => runs.length === enqueued, 10_000, 'every job');
    expect(runs.filter((r) => r.seen !== 1)).toEqual([]);
    expect(lines.filter((l) => l.job_status === 'fail')).toEqual([]);
    expect(app.databases!.balancer('main').replicas[0]!.isOnline).toBe(true);
  });
});
