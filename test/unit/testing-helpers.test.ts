import { describe, expect, it } from 'vitest';
import { createLagless } from '../../src/index.js';
import { runUntilIdle } from '../../src/testing.js';

describe('lagless/testing runUntilIdle', () => {
  it('runs every job including retries and due scheduled ones, then returns', async () => {
    const app = createLagless({ logger: false });
    const seen: number[] = [];
    const W = app.defineWorker({
      name: 'CollectWorker',
      retry: { max: 1, backoffMs: () => 5 },
      perform: (args: { n: number }, ctx) => {
        if (args.n === 2 && !ctx.job.retry_count) throw new Error('first try fails');
        seen.push(args.n);
      },
    });
    await W.enqueueMany([{ n: 1 }, { n: 2 }]);
    await W.enqueueIn(20, { n: 3 });
    await runUntilIdle(app, { queues: ['default'] });
    expect(seen.sort()).toEqual([1, 2, 3]);
    await app.close();
  });

  it('throws with the queue sizes when the work does not finish in time', async () => {
    const app = createLagless({ logger: false });
    const W = app.defineWorker({ name: 'NeverDoneWorker', retry: { max: 5, backoffMs: () => 60_000 }, perform: () => Promise.reject(new Error('no')) });
    await W.enqueue({});
    await expect(runUntilIdle(app, { queues: ['default'], timeoutMs: 200 })).rejects.toThrow(/still busy after 200 ms: .*"retry":1/);
    await app.close();
  });
});
