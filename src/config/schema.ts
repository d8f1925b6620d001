import { z } from 'zod';
import { databasesConfigSchema } from '../db/databases-config.js';
import { InvalidOptionError } from '../errors.js';
import { flagsConfigSchema } from './flags-config.js';
import { checkRedisTarget, redisTargetSchema } from './redis-target-schema.js';

const configSchema = z
  .object({
    redis: redisTargetSchema
      .extend({
        prefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'use 1-64 letters, digits, _ . : or -').optional(),
        enqueueTimeoutMs: z.number().int().min(1).optional(),
        commandTimeoutMs: z.number().int().min(1).optional(),
        durableEnqueue: z.object({ replicas: z.number().int().min(1), timeoutMs: z.number().int().min(1) }).strict().optional(),
      })
      .strict()
      .superRefine(checkRedisTarget)
      .optional(),
    databases: databasesConfigSchema.optional(),
    flags: flagsConfigSchema.optional(),
    logger: z.any().optional(),
    clock: z.any().optional(),
    logJobStart: z.boolean().optional(),
    queues: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'queue names are 1-100 letters, digits, _ . or -'), z.object({ partitions: z.number().int().min(1).max(1024).optional() }).strict())
      .optional(),
  })
  .passthrough();

/** Validate createLagless options once, naming the option and the fix. */
export function validateConfig(config: unknown): void {
  const result = configSchema.safeParse(config ?? {});
  if (result.success) return;
  const issue = result.error.issues[0]!;
  throw new InvalidOptionError(`Invalid createLagless option ${issue.path.join('.') || '(config)'}: ${issue.message}.`);
}
