import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/db/lsn.js';
import { startLbEnv, type LbEnv } from '../support/lb-env.js';
import { BACKLOG_CLUSTER, BACKLOG_SCHEMA, followUpRunsOnReplica, runBacklogRound, type BacklogRun } from '../support/replica-backlog.js';

const PER_WORKER = 1_000;
const MB = 1024 * 1024;

/**
 * Issue 12, points 1, 2 and 4: a replica that comes back from a crash, a restart or an older base copy reopens far
 * behind what it had replayed. Whatever lagless cached about it before must not send a job there. One cluster,
 * rounds in order (each round's WAL adds to the replay a later restart must redo).
 */
describe('no stale read across a replica crash, restart or replacement', () => {
  let env: LbEnv;

  beforeAll(async () => {
    env = await startLbEnv({ cluster: BACKLOG_CLUSTER });
    const { app } = env.app();
    for (const statement of BACKLOG_SCHEMA) await app.db('main').query(statement);
  });

  afterAll(async () => env?.stop());

  function expectNoStaleRead(run: BacklogRun): void {
    // The scenario really happened: ≥ 100 MB of WAL, and the reopened replica did not have the jobs' rows.
    expect(run.walBytes).toBeGreaterThanOrEqual(100 * MB);
    expect(run, `the replica reopened at ${run.reopenedAt}, marker ${run.marker}`).toMatchObject({ reopenedBehind: true });
    expect(run.records).toHaveLength(2 * PER_WORKER);
    expect(run.records.filter((r) => r.seen !== 1)).toEqual([]);
    // Only a replica verdict reads on a replica. A 'replica' verdict may still read on the primary: its read found
    // another incarnation at that address (or a dead connection) and fell back.
    for (const r of run.records) if (r.onReplica) expect(r.strategy).toMatch(/^replica(_retried)?$/);
  }

  const fellBack = (run: BacklogRun): number => run.records.filter((r) => !r.onReplica && r.strategy?.startsWith('replica')).length;

  it('1. crash (immediate stop) and restart with 1,000 sticky and 1,000 delayed jobs queued: 0 stale reads, then the replica again', async () => {
    const target = env.app();
    const host = () => target.app.databases!.balancer('main').replicas[0]!;
    let lagAfterRestart: bigint | undefined;
    const run = await runBacklogRound(env, target, {
      firstId: 1_000_000,
      perWorker: PER_WORKER,
      fault: async () => {
        const before = host().incarnation;
        await env.cluster.crashReplica(0);
        await env.cluster.startReplica(0);
        // Point 7: the first health reading of the new incarnation reports the real lag, not the cached maximum's.
        await target.app.databases!.balancer('main').checkHealth();
        expect(host().incarnation).not.toBe(before);
        lagAfterRestart = host().lagBytes;
      },
    });
    expectNoStaleRead(run);
    // That reading came before the replica's own position was read (reopenedAt), and the primary was past the
    // marker: the real lag then was at least marker - reopenedAt. A lag taken from the old incarnation's cache
    // (all replayed) would be about 0.
    expect(lagAfterRestart).toBeGreaterThanOrEqual(parseLsn(run.marker) - parseLsn(run.reopenedAt));
    expect(lagAfterRestart).toBeGreaterThan(0n);
    // Jobs ran on the primary, or waited (delayed: re-queued) until the restarted replica had their position.
    const strategies = new Set(run.records.map((r) => `${r.worker}:${r.strategy}`));
    expect([...strategies].some((s) => s.startsWith('sticky:primary') || s.startsWith('sticky:replica'))).toBe(true);
    expect(target.lines.filter((l) => l.job_status === 'fail')).toEqual([]);
    expect(target.lines.find((l) => l.event === 'replica_incarnation_changed')).toMatchObject({ database: 'main', from: expect.any(String), to: expect.any(String) });
    expect(await target.app.metrics.metrics()).toMatch(/lagless_replica_incarnation_changes_total\{database="main",host="127\.0\.0\.1:\d+"\} 1/);
    expect(await followUpRunsOnReplica(env, target, 1_900_000)).toBe('replica');
  });

  it('2. stop and start inside one health-check interval (no offline state ever observed): new connections prove the incarnation', async () => {
    // No health check during the round, and no idle connection for the crash to break: only the proof can notice.
    const target = env.app({ databases: { main: { primary: env.cluster.primaryUrl, replicas: env.cluster.replicaUrls, healthCheckIntervalMs: 600_000, idleTimeoutMs: 1 } } });
    const run = await runBacklogRound(env, target, {
      firstId: 2_000_000,
      perWorker: PER_WORKER,
      fault: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50)); // let idle connections close
        await env.cluster.crashReplica(0);
        await env.cluster.startReplica(0);
      },
    });
    expectNoStaleRead(run);
    const events = target.lines.filter((l) => typeof l.event === 'string' && String(l.event).startsWith('replica_')).map((l) => `${String(l.event)}:${String(l.reason ?? '')}`);
    // The first thing lagless learned was the new incarnation, from a connection's proof, before any offline mark.
    expect(events[0]).toBe('replica_incarnation_changed:');
    expect(events).toContain('replica_cache_dropped:incarnation_changed');
    expect(events.some((e) => e.startsWith('replica_offline'))).toBe(false);
    // Jobs decided from the cached verdict reached the restarted server and were turned away by the proof.
    expect(fellBack(run)).toBeGreaterThan(0);
    expect(await followUpRunsOnReplica(env, target, 2_900_000)).toBe('replica');
  });

  it('4. a replica address that answers from another server (restarted from an older base copy) with a lower position: 0 stale reads', async () => {
    const target = env.app();
    const run = await runBacklogRound(env, target, {
      firstId: 4_000_000,
      perWorker: PER_WORKER,
      fault: () => env.cluster.replaceReplicaWithBaseCopy(0),
    });
    expectNoStaleRead(run);
    expect(target.lines.find((l) => l.event === 'replica_incarnation_changed')).toBeDefined();
    expect(await followUpRunsOnReplica(env, target, 4_900_000)).toBe('replica');
  });
});
