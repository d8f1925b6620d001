import type { ChainableCommander } from 'ioredis';

/** A pipeline's replies, or its first error (so a deadline call sees an unsent or aborted pipeline as such). */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  return replies.map(([, value]) => value);
}
