import { createLagless, RedisJobStore, type LaglessApp } from '../../dist/index.js';
import type { BenchContext } from '../context.js';

export const QUEUE = 'bench';

export interface LaglessSetup {
  app: LaglessApp;
  store: RedisJobStore;
}

/** A silent lagless app on its own key prefix of the private server (or on `prefix`, to reopen one). */
export function laglessApp(ctx: BenchContext, label: string, prefix = ctx.prefix(`lagless-${label}`)): LaglessSetup {
  const app = createLagless({ redis: { url: ctx.url, prefix }, logger: false });
  if (!(app.store instanceof RedisJobStore)) throw new Error('createLagless({ redis }) did not build a RedisJobStore');
  return { app, store: app.store };
}
