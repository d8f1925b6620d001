import type { Redis } from 'ioredis';
import type { BenchContext } from '../context.js';
import { timed, type Timed } from '../measure.js';
import { laglessApp } from '../systems/lagless.js';

type WithNoop = Redis & { benchNoop(): Promise<number> };

export interface FloorClient {
  client: WithNoop;
  close(): Promise<void>;
}

/** A client built as lagless builds the one it enqueues with (a second app's store connection), with the no-op script loaded. */
export async function floorClient(ctx: BenchContext): Promise<FloorClient> {
  const { app, store } = laglessApp(ctx, 'floor');
  const client = store.client as WithNoop;
  client.defineCommand('benchNoop', { numberOfKeys: 0, lua: 'return 1' });
  // The store's connection refuses commands until it is ready (it never queues them); lagless's own calls wait.
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  return { client, close: () => app.close() };
}

/**
 * Scenario f: the floor for one awaited enqueue — EVALSHA of a script that does nothing, one awaited call at a time,
 * on a connection of its own built exactly as the enqueuing app's (options, scripts, deadline settings).
 */
export async function floorRun(ctx: BenchContext, count: number, floor: () => Promise<FloorClient>): Promise<Timed> {
  const { client } = await floor();
  await client.benchNoop(); // loads the script, so every timed call is a plain EVALSHA
  return timed(ctx, count, async () => {
    for (let i = 0; i < count; i++) await client.benchNoop();
  });
}
