import type { LaglessApp } from '../app.js';
import { PRESERVE_LATEST_WAL_FLAG } from '../dedup/flags.js';
import type { JobContext } from '../jobs/worker.js';
import { waitForReplay } from '../sandbox/wait-for-replay.js';
import { ProgressLine } from './progress.js';

export interface StoryStats {
  enqueued: number;
  absorbed: number;
  executed: number;
  strategies: Record<string, number>;
  staleReads: number;
  exampleDedupWal?: Record<string, string>;
  exampleWal?: Record<string, string>;
}

const QUEUE = 'user_refresh';
const WRITES_WHILE_QUEUED = 3;

/**
 * Part two, the reason lagless exists. For every user: write v1 and enqueue a cache refresh; let the replica
 * replay v1; write v2..v4, each followed by an enqueue that the queued job absorbs. With the flag off the job
 * still carries v1's WAL position, the replica has it, so the job reads v1 there: a stale read. With the flag on
 * it carries v4's position and waits for (or falls back from) the replica instead.
 */
export class WalStory {
  private readonly required = new Map<string, number>();
  private readonly reads: { jid: string; v: number }[] = [];
  private readonly strategies: Record<string, number> = {};
  private example?: { dedup?: Record<string, string>; wal?: Record<string, string> };
  private readonly Refresh;

  constructor(
    private readonly app: LaglessApp,
    private readonly replicaUrl: string,
  ) {
    app.serverMiddleware.insertBefore('load_balancing', 'demo_strategy_count', async (context, next) => {
      try {
        return await next();
      } finally {
        const strategy = context.job.load_balancing_strategy ?? 'none';
        this.strategies[strategy] = (this.strategies[strategy] ?? 0) + 1;
      }
    });
    this.Refresh = app.defineWorker({
      name: 'UserCacheRefreshWorker',
      queue: QUEUE,
      idempotent: true,
      dataConsistency: 'delayed',
      perform: async (args: { userId: number }, ctx: JobContext) => {
        const { rows } = await ctx.db('main').query<{ v: number }>('select v from demo_users where id = $1', [args.userId]);
        this.reads.push({ jid: ctx.jid, v: rows[0]!.v });
        this.example ??= { dedup: ctx.job.dedup_wal_locations, wal: ctx.job.wal_locations };
      },
    });
  }

  static async prepare(app: LaglessApp): Promise<void> {
    await app.migrate();
    await app.db('main').query('create table if not exists demo_users (id int primary key, v int not null)');
  }

  async run(options: { flagOn: boolean; users: number; firstUser: number; progress: ProgressLine; label: string }): Promise<StoryStats> {
    const { app } = this;
    this.required.clear();
    this.reads.length = 0;
    for (const key of Object.keys(this.strategies)) delete this.strategies[key];
    this.example = undefined;
    await app.flags.set(PRESERVE_LATEST_WAL_FLAG, options.flagOn, { by: 'demo' });

    const users = Array.from({ length: options.users }, (_, i) => options.firstUser + i);
    let enqueued = 0;
    const writeAndEnqueue = (userId: number, v: number): Promise<void> =>
      app.databases!.sessions.run(async () => {
        await app.db('main').query('insert into demo_users values ($1, $2) on conflict (id) do update set v = $2', [userId, v]);
        const result = await this.Refresh.enqueue({ userId });
        const owner = result.duplicateOf ?? result.jid;
        this.required.set(owner, Math.max(this.required.get(owner) ?? 0, v));
        enqueued++;
      });

    for (const user of users) await writeAndEnqueue(user, 1);
    options.progress.update(`  ${options.label}: ${enqueued} jobs queued; waiting for the replica to replay v1`, true);
    const lastLsn = (await app.db('main').query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn', [], { primary: true })).rows[0]!.lsn;
    await waitForReplay(this.replicaUrl, lastLsn, { timeoutMs: 60_000 });
    for (let v = 2; v <= 1 + WRITES_WHILE_QUEUED; v++) {
      for (const user of users) await writeAndEnqueue(user, v);
      options.progress.update(`  ${options.label}: writes v2..v${1 + WRITES_WHILE_QUEUED} ${enqueued - users.length}/${users.length * WRITES_WHILE_QUEUED}, each enqueue absorbed by the queued job`);
    }

    const worker = app.worker({ queues: [QUEUE], concurrency: 20, maintenanceIntervalMs: 50 });
    await worker.start();
    while (this.reads.length < this.required.size) {
      options.progress.update(`  ${options.label}: executed ${this.reads.length}/${this.required.size}  stale reads ${this.staleReads()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await worker.stop();
    options.progress.done(`  ${options.label}: executed ${this.reads.length}/${this.required.size}  stale reads ${this.staleReads()}`);
    return {
      enqueued,
      absorbed: enqueued - this.required.size,
      executed: this.reads.length,
      strategies: { ...this.strategies },
      staleReads: this.staleReads(),
      ...this.exampleFields(),
    };
  }

  private exampleFields(): Pick<StoryStats, 'exampleDedupWal' | 'exampleWal'> {
    const example = this.example;
    return { ...(example?.dedup ? { exampleDedupWal: example.dedup } : {}), ...(example?.wal ? { exampleWal: example.wal } : {}) };
  }

  /** A read is stale when it is older than the newest write whose enqueue the job covers. */
  private staleReads(): number {
    return this.reads.filter((read) => read.v < (this.required.get(read.jid) ?? 0)).length;
  }
}
