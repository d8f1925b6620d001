import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { EnqueueContext } from '../../src/client/enqueue-context.js';
import { loadBalancingClientMiddleware } from '../../src/db/client-middleware.js';
import { Databases } from '../../src/db/databases.js';
import { loadBalancingServerMiddleware, RETRY_SNOOZE_MS } from '../../src/db/server-middleware.js';
import type { FlagCheck } from '../../src/dedup/flags.js';
import type { DataConsistency, JobPayload } from '../../src/jobs/payload.js';
import { retryPolicy } from '../../src/jobs/retry.js';
import { Snooze } from '../../src/jobs/snooze.js';
import type { EnqueueResult, WorkerDefinition } from '../../src/jobs/worker.js';
import type { ExecutionContext } from '../../src/server/execution-context.js';
import { FakePool } from '../support/fake-pool.js';

const FLAGS_OFF: FlagCheck = { enabled: () => false };

function setup() {
  const pools = new Map<string, FakePool>();
  const registry = new Registry();
  const databases = new Databases({ main: { primary: 'postgres://p/main', replicas: ['postgres://r/main'] } }, { registry, maxWaitMs: 10, poolFactory: (url) => pools.set(url, new FakePool()).get(url)! });
  const primary = pools.get('postgres://p/main')!;
  const replica = pools.get('postgres://r/main')!;
  primary.currentLsn = '0/100';
  replica.replayLsn = '0/50';
  return { databases, primary, replica, registry };
}

function worker(dataConsistency?: DataConsistency, dataConsistencyFlag?: string): WorkerDefinition {
  return { name: 'W', queue: 'default', options: { name: 'W', perform: () => undefined, dataConsistency, dataConsistencyFlag }, retry: retryPolicy(undefined) };
}

function payload(extra: Partial<JobPayload> = {}): JobPayload {
  return { jid: 'j1', class: 'W', queue: 'default', args: {}, created_at: 1, enqueued_at: 1, ...extra };
}

function execution(def: WorkerDefinition, job: JobPayload, databases: Databases): ExecutionContext {
  const logger = pino({ level: 'silent' });
  return { worker: def, job, logFields: {}, ctx: { jid: job.jid, job, logger, signal: new AbortController().signal, snooze: (ms) => new Snooze(ms), progress: async () => undefined, db: (name) => databases.db(name) } };
}

describe('load-balancing server middleware', () => {
  it("'delayed' behind and not yet retried: snoozes with strategy 'retry' stored in the payload, perform not run", async () => {
    const { databases, registry } = setup();
    const middleware = loadBalancingServerMiddleware({ databases: () => databases, flags: () => FLAGS_OFF });
    const context = execution(worker('delayed'), payload({ wal_locations: { main: '0/100' } }), databases);
    let ran = false;
    const thrown = await middleware(context, async () => (ran = true)).catch((error: unknown) => error);
    expect(thrown).toEqual(new Snooze(RETRY_SNOOZE_MS));
    expect(ran).toBe(false);
    expect(context.job.load_balancing_strategy).toBe('retry');
    expect(context.logFields).toMatchObject({ load_balancing_strategy: 'retry', wal_locations: { main: '0/100' } });
    expect(await registry.metrics()).toMatch(/lagless_lb_decisions_total\{worker="W",data_consistency="delayed",strategy="retry"\} 1/);
  });

  it("a retried 'delayed' job (snoozed before, or failed before) runs on the primary while behind, replica_retried once caught up", async () => {
    const { databases, replica } = setup();
    const middleware = loadBalancingServerMiddleware({ databases: () => databases, flags: () => FLAGS_OFF });
    let n = 0;
    const where = async (job: JobPayload, consistency: DataConsistency = 'delayed'): Promise<[string | undefined, boolean]> => {
      const context = execution(worker(consistency), job, databases);
      const text = `select ${++n}`;
      await middleware(context, () => context.ctx.db('main').query(text));
      return [context.job.load_balancing_strategy, replica.statements.includes(text)];
    };
    expect(await where(payload({ wal_locations: { main: '0/100' }, load_balancing_strategy: 'retry' }))).toEqual(['primary', false]);
    expect(await where(payload({ wal_locations: { main: '0/100' }, retry_count: 1 }))).toEqual(['primary', false]);
    replica.replayLsn = '0/100';
    expect(await where(payload({ wal_locations: { main: '0/100' }, load_balancing_strategy: 'retry' }))).toEqual(['replica_retried', true]);
    expect(await where(payload({ wal_locations: { main: '0/100' } }))).toEqual(['replica', true]);
    // replica_retried belongs to 'delayed': a sticky job retried after a failure is plain 'replica'.
    expect(await where(payload({ wal_locations: { main: '0/100' }, retry_count: 1 }), 'sticky')).toEqual(['replica', true]);
    expect(await where(payload({ wal_locations: { main: '0/100' }, retry_count: 1 }), 'delayed')).toEqual(['replica_retried', true]);
  });

  it('uses dedup_wal_locations over wal_locations; a consistency flag that is off means primary', async () => {
    const { databases, replica } = setup();
    replica.replayLsn = '0/80';
    const flagsOn = { enabled: (name: string) => name === 'on' };
    const middleware = loadBalancingServerMiddleware({ databases: () => databases, flags: () => flagsOn });
    const decide = async (def: WorkerDefinition, job: JobPayload) => {
      const context = execution(def, job, databases);
      await middleware(context, async () => undefined);
      return context.job.load_balancing_strategy;
    };
    expect(await decide(worker('sticky'), payload({ wal_locations: { main: '0/10' }, dedup_wal_locations: { main: '0/90' } }))).toBe('primary');
    expect(await decide(worker('sticky'), payload({ wal_locations: { main: '0/90' }, dedup_wal_locations: { main: '0/10' } }))).toBe('replica');
    expect(await decide(worker('sticky', 'off'), payload({ wal_locations: { main: '0/10' } }))).toBe('primary');
    expect(await decide(worker('sticky', 'on'), payload({ wal_locations: { main: '0/10' } }))).toBe('replica');
    expect(await decide(worker('sticky'), payload())).toBe('primary_no_wal');
  });

  it('without databases it only calls next()', async () => {
    const { databases } = setup();
    const middleware = loadBalancingServerMiddleware({ databases: () => undefined, flags: () => FLAGS_OFF });
    const context = execution(worker('sticky'), payload({ wal_locations: { main: '0/1' } }), databases);
    expect(await middleware(context, async () => 'ran')).toBe('ran');
    expect(context.job.load_balancing_strategy).toBeUndefined();
  });
});

describe('load-balancing client middleware', () => {
  const pushed = (context: EnqueueContext) => async (): Promise<EnqueueResult> => ({ jid: context.job.jid, deduplicated: false });

  it("stamps sticky/delayed workers whose flag is on; leaves 'always' workers alone", async () => {
    const { databases } = setup();
    const middleware = loadBalancingClientMiddleware({ databases: () => databases, flags: () => ({ enabled: (name) => name === 'on' }) });
    const stamp = async (def: WorkerDefinition) => {
      const context: EnqueueContext = { worker: def, job: payload() };
      await middleware(context, pushed(context));
      return context.job;
    };
    expect(await stamp(worker('sticky'))).toMatchObject({ wal_locations: { main: '0/100' }, wal_location_sources: { main: 'primary' }, worker_data_consistency: 'sticky' });
    expect(await stamp(worker('delayed', 'on'))).toMatchObject({ worker_data_consistency: 'delayed' });
    for (const def of [worker(), worker('always'), worker('delayed', 'off')]) {
      const job = await stamp(def);
      expect(job).not.toHaveProperty('wal_locations');
      expect(job).not.toHaveProperty('worker_data_consistency');
    }
  });

  it('inside a transaction: resolves heldUntilCommit at once, pushes after COMMIT with one stamp for all, drops on ROLLBACK', async () => {
    const { databases, primary } = setup();
    const middleware = loadBalancingClientMiddleware({ databases: () => databases, flags: () => FLAGS_OFF });
    const order: string[] = [];
    const enqueue = (id: string) => {
      const context: EnqueueContext = { worker: worker('sticky'), job: payload({ jid: id }) };
      return middleware(context, async () => {
        order.push(`push ${id} ${context.job.wal_locations?.main}`);
        return { jid: id, deduplicated: false };
      });
    };
    const db = databases.db('main');
    const results = await db.transaction(async () => {
      const held = [await enqueue('a'), await enqueue('b'), await enqueue('c')];
      order.push('end of transaction body');
      primary.currentLsn = '0/200'; // the COMMIT record
      return held;
    });
    expect(results).toEqual(['a', 'b', 'c'].map((jid) => ({ jid, deduplicated: false, heldUntilCommit: true })));
    expect(order).toEqual(['end of transaction body', 'push a 0/200', 'push b 0/200', 'push c 0/200']);
    expect(primary.statements.filter((s) => s.includes('pg_current_wal_insert_lsn'))).toHaveLength(1);
    expect(primary.statements).toContain('commit');

    order.length = 0;
    await expect(db.transaction(async () => {
      await enqueue('d');
      throw new Error('rollback');
    })).rejects.toThrow('rollback');
    expect(order).toEqual([]);
  });
});
