// Test helpers for applications (import from 'lagless/testing'); lagless's own tests use them too.
import type { LaglessApp } from './app.js';

/**
 * Run a worker on `queues` until none of them has ready, scheduled, retrying or in-flight jobs left
 * (or `timeoutMs` passes, which throws). Use with createLagless() without `redis` for fast in-memory tests.
 */
export async function runUntilIdle(app: LaglessApp, options: { queues: string[]; concurrency?: number; timeoutMs?: number }): Promise<void> {
  const worker = app.worker({ queues: options.queues, concurrency: options.concurrency ?? 10, maintenanceIntervalMs: 10 });
  await worker.start();
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  try {
    for (;;) {
      const sizes = await Promise.all(options.queues.map((queue) => app.store.queueSizes(queue)));
      if (sizes.every((s) => s.ready === 0 && s.inFlight === 0 && s.retry === 0 && s.scheduled === 0)) return;
      if (Date.now() > deadline) throw new Error(`runUntilIdle: queues still busy after ${options.timeoutMs ?? 10_000} ms: ${JSON.stringify(sizes)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await worker.stop({ timeoutMs: 1000 });
  }
}
