import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';

/** What the authorize function answers: false refuses; true allows; a string allows and names the user for the audit trail. */
export type AuthorizeResult = boolean | string;

export interface DashboardOptions {
  /**
   * Mutations (retry, delete, flag changes) need it: `Authorization: Bearer <token>`, or a browser session
   * signed in with it. Default `LAGLESS_DASHBOARD_TOKEN`. At least 16 characters (`openssl rand -hex 16`).
   */
  token?: string;
  /** Decide about each mutating request yourself when mounted (your session, your SSO). */
  authorize?: (req: IncomingMessage) => AuthorizeResult | Promise<AuthorizeResult>;
  /** Refuse every mutation and hide the controls. */
  readOnly?: boolean;
  /** Serve Prometheus `/metrics` from the app's registry (default true). */
  metrics?: boolean;
  /**
   * The path prefix when the framework passes the full URL (node:http, Fastify). Express's
   * `app.use('/lagless', handler)` strips the prefix itself and needs nothing here.
   */
  basePath?: string;
  /**
   * Without a token or authorize function, allow mutations from loopback peers. `lagless dashboard` sets it
   * when it binds to loopback; leave it off behind a reverse proxy, where every peer is loopback.
   */
  allowLoopbackMutations?: boolean;
  /** How often the charts get a point (default 2000 ms). */
  sampleIntervalMs?: number;
  /** How far back the charts reach (default 15 minutes). */
  historyMs?: number;
}

export interface ResolvedDashboardOptions {
  readonly token: string | undefined;
  readonly authorize: DashboardOptions['authorize'];
  readonly readOnly: boolean;
  readonly metrics: boolean;
  readonly basePath: string;
  readonly allowLoopbackMutations: boolean;
  readonly sampleIntervalMs: number;
  readonly historyMs: number;
}

const schema = z
  .object({
    token: z.string().min(16, 'use at least 16 characters (e.g. openssl rand -hex 16)').regex(/^[\x21-\x7e]+$/, 'use printable ASCII without spaces').optional(),
    authorize: z.function().optional(),
    readOnly: z.boolean().optional(),
    metrics: z.boolean().optional(),
    basePath: z.string().regex(/^(\/[A-Za-z0-9._~-]+)+$/, "use a path such as '/lagless' (no trailing slash)").optional(),
    allowLoopbackMutations: z.boolean().optional(),
    sampleIntervalMs: z.number().int().min(100).max(60_000).optional(),
    historyMs: z.number().int().min(10_000).max(24 * 3_600_000).optional(),
  })
  .strict();

/** Validate once, name the option and the fix, and freeze the result (STYLE: options resolved once). */
export function resolveDashboardOptions(options: DashboardOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedDashboardOptions {
  const withEnv = { ...options, token: options.token ?? (env.LAGLESS_DASHBOARD_TOKEN || undefined) };
  const result = schema.safeParse(withEnv);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const source = issue.path[0] === 'token' && options.token === undefined ? 'LAGLESS_DASHBOARD_TOKEN' : `dashboard option ${issue.path.join('.')}`;
    throw new InvalidOptionError(`Invalid ${source}: ${issue.message}.`);
  }
  return Object.freeze({
    token: withEnv.token,
    authorize: options.authorize,
    readOnly: options.readOnly ?? false,
    metrics: options.metrics ?? true,
    basePath: options.basePath ?? '',
    allowLoopbackMutations: options.allowLoopbackMutations ?? false,
    sampleIntervalMs: options.sampleIntervalMs ?? 2000,
    historyMs: options.historyMs ?? 15 * 60_000,
  });
}
