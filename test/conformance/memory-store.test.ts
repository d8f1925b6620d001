import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../src/store/memory-store.js';
import { jobStoreConformance } from './job-store.suite.js';

jobStoreConformance('MemoryJobStore', async () => {
  const store = new MemoryJobStore();
  return { store, close: () => store.close() };
});

describe('MemoryJobStore and a reused jid', () => {
  it('leases a payload whose jid a job in flight holds under a derived id, never over the other lease', async () => {
    const store = new MemoryJobStore();
    const first = '{"jid":"twin","class":"W","args":{},"created_at":1}';
    const second = '{"class":"W","jid":"twin","args":{"n":2},"created_at":1}';
    const lease = { queue: 'q', count: 5, token: 't', leaseMs: 600_000, nowMs: 1 };
    await store.jobPush({ queue: 'q', jid: 'twin', raw: first, nowMs: 1 });
    expect(await store.jobFetch(lease)).toEqual([{ jid: 'twin', raw: first }]);
    // Pushed again once the push window has passed, while the first copy is still in flight.
    await store.jobPush({ queue: 'q', jid: 'twin', raw: second, nowMs: 60_000 });
    const [job] = await store.jobFetch({ ...lease, nowMs: 60_000 });
    expect(job!.jid).toMatch(/^twin#[0-9a-f]{40}$/);
    expect(await store.queueSizes('q')).toMatchObject({ inFlight: 2 });
  });
});
