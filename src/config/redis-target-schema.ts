import { z } from 'zod';

const redisUrl = z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://');

/** Where Redis is (src/redis/connection.ts RedisTarget): shared by createLagless options and lagless.config.* files. */
export const redisTargetSchema = z.object({
  url: redisUrl.optional(),
  cluster: z.object({ nodes: z.array(redisUrl).min(1, 'name at least one node, e.g. redis://10.0.0.1:7000'), options: z.record(z.string(), z.unknown()).optional() }).strict().optional(),
  sentinels: z.array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict()).min(1, 'name at least one sentinel').optional(),
  name: z.string().min(1).optional(),
  password: z.string().optional(),
  sentinelPassword: z.string().optional(),
});

/** Exactly one of url, cluster, sentinels; sentinels need the master name. */
export function checkRedisTarget(value: { url?: unknown; cluster?: unknown; sentinels?: unknown; name?: unknown }, ctx: z.RefinementCtx): void {
  const given = (['url', 'cluster', 'sentinels'] as const).filter((field) => value[field] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `give exactly one of url, cluster: { nodes } or sentinels + name (got ${given.length === 0 ? 'none' : given.join(' and ')})` });
  } else if (value.sentinels !== undefined && value.name === undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['name'], message: "sentinels need name: the master name they monitor (e.g. 'mymaster')" });
  }
}
