import { z } from 'zod';

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL');

/**
 * One entry of `databases`. The name is stored in payloads and in the dedup cookie as `db=LSN` pairs, so it
 * is limited to characters that need no escaping there.
 */
const databaseSchema = z
  .object({
    primary: postgresUrl,
    replicas: z.array(postgresUrl).optional(),
    discover: z
      .object({
        record: z.string().min(1),
        type: z.enum(['A', 'SRV']),
        nameserver: z.string().min(1).optional(),
        port: z.number().int().min(1).max(65_535).optional(),
        intervalMs: z.number().int().min(100).optional(),
        databasePort: z.number().int().min(1).max(65_535).optional(),
        timeoutMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    maxReplicationLagBytes: z.number().int().min(0).optional(),
    maxReplicationLagSeconds: z.number().min(0).optional(),
    healthCheckIntervalMs: z.number().int().min(50).optional(),
    connectTimeoutMs: z.number().int().min(10).optional(),
    statementTimeoutMs: z.number().int().min(10).optional(),
    idleTimeoutMs: z.number().int().min(1).optional(),
    caughtUpCheckIntervalMs: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((db) => !(db.replicas && db.discover), { message: 'use either replicas (a static list) or discover (DNS), not both', path: ['discover'] });

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export const databasesConfigSchema = z.record(z.string(), databaseSchema).superRefine((databases, ctx) => {
  for (const name of Object.keys(databases)) {
    if (!DATABASE_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `'${name}' is not a usable database name: use letters, digits and _ (names are stored in payloads)` });
  }
});
