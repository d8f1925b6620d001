import type { Redis } from 'ioredis';
import type { BenchContext } from '../context.js';
import { timed, type Timed } from '../measure.js';
import { laglessApp } from '../systems/lagless.js';

type WithNoop = Redis & { benchNoop(): Promise<number> };

export interface FloorClient {
  client: WithNoop;
  close(): Promise<void>;
}

/** The client lagless enqueues with (a lagless app's store connection), with the no-op script loaded. */
export async function floorClient(ctx: BenchContext): Promise<FloorClient> {
  const { app, store } = laglessApp(ctx, 'floor');
  const client = store.client as WithNoop;
  client.defineCommand('benchNoop', { numberOfKeys: 0, lua: 'return 1' });
  // The store's connection refuses commands until it is ready (it never queues them); lagless's own calls wait.
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return { client, close: () => app.close() };
}

/**
 * Scenario f: the floor for one awaited enqueue — EVALSHA of a script that does nothing, through the very client
 * lagless enqueues with, one awaited call at a time.
 */
export async function floorRun(ctx: BenchContext, count: number, floor: () => Promise<FloorClient>): Promise<Timed> {
  const { client } = await floor();
  await client.benchNoop(); // loads the script, so every timed call is a plain EVALSHA
  return timed(ctx, count, async () => {
    for (let i = 0; i < count; i++) await client.benchNoop();
  });
}
