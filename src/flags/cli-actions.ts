import { parseSetValues, resolveEnvironments, splitIds, type EnvArgs, type IdList, type SetArgs } from './cli-args.js';
import { describeAudit, describeChange, describeInfo } from './describe.js';
import { FlagError, UndefinedFlagError } from './errors.js';
import type { Flags } from './flags.js';
import { lintFlags } from './lint.js';
import type { FlagChange } from './store/flag-store.js';

/**
 * What `lagless feature set|get|list|delete|history|lint` do, given parsed arguments. The CLI prints `text`
 * (or `data` as JSON with --json) and exits non-zero when `ok` is false or a FlagError is thrown. Bad input
 * throws before any write; `set` and `delete` also read every target environment first, so an unreachable
 * database fails the command before anything is written anywhere.
 */
export type FeatureFlagsApi = Pick<Flags, 'set' | 'get' | 'delete' | 'history' | 'list' | 'storedNames' | 'definitions'>;

export interface FeatureCliContext {
  /** Environment names from the config file. */
  readonly environments: readonly string[];
  /** LAGLESS_ENV or the config's default. */
  readonly defaultEnvironment: string;
  /** The Flags instance serving `env` (one instance may serve several environments of one database). */
  flagsFor(env: string): FeatureFlagsApi | Promise<FeatureFlagsApi>;
  readonly definitionDirs?: readonly string[];
}

export interface FeatureResult {
  readonly ok: boolean;
  readonly text: string;
  readonly data: unknown;
}

type Targets = Array<{ env: string; flags: FeatureFlagsApi }>;

async function targets(ctx: FeatureCliContext, args: EnvArgs): Promise<Targets> {
  const envs = resolveEnvironments(args, ctx.environments, ctx.defaultEnvironment);
  return Promise.all(envs.map(async (env) => ({ env, flags: await ctx.flagsFor(env) })));
}

function changed(changes: FlagChange[], none: string): FeatureResult {
  return { ok: true, text: changes.length > 0 ? changes.map(describeChange).join('\n') : none, data: { changes } };
}

export async function featureSet(ctx: FeatureCliContext, args: SetArgs & EnvArgs & { by?: string }): Promise<FeatureResult> {
  const values = parseSetValues(args);
  const all = await targets(ctx, args);
  for (const { flags } of all) if (!flags.definitions.has(args.name)) throw new UndefinedFlagError(args.name);
  for (const { env, flags } of all) await flags.get(args.name, { env }); // reachability check before the first write
  const changes: FlagChange[] = [];
  for (const { env, flags } of all) {
    for (const value of values) changes.push(await flags.set(args.name, value, { by: args.by, env }));
  }
  return changed(changes, 'nothing changed');
}

export async function featureDelete(ctx: FeatureCliContext, args: { name: string; by?: string } & EnvArgs): Promise<FeatureResult> {
  const all = await targets(ctx, args);
  for (const { env, flags } of all) await flags.list({ env });
  const changes: FlagChange[] = [];
  for (const { env, flags } of all) {
    const change = await flags.delete(args.name, { by: args.by, env });
    if (change) changes.push(change);
  }
  return changed(changes, `${args.name}: nothing stored in ${all.map((t) => t.env).join(', ')}; the default already applies`);
}

export async function featureGet(ctx: FeatureCliContext, args: { name: string } & EnvArgs): Promise<FeatureResult> {
  const infos = await Promise.all((await targets(ctx, args)).map(({ env, flags }) => flags.get(args.name, { env })));
  return { ok: true, text: infos.map(describeInfo).join('\n'), data: { flags: infos } };
}

export async function featureList(ctx: FeatureCliContext, args: EnvArgs): Promise<FeatureResult> {
  const infos = (await Promise.all((await targets(ctx, args)).map(({ env, flags }) => flags.list({ env })))).flat();
  return { ok: true, text: infos.length > 0 ? infos.map(describeInfo).join('\n') : 'no flags defined', data: { flags: infos } };
}

export async function featureHistory(ctx: FeatureCliContext, args: { name: string; limit?: number | string } & EnvArgs): Promise<FeatureResult> {
  const limit = args.limit === undefined ? undefined : Number(args.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new FlagError('FLAG_INVALID_ARGUMENT', `--limit must be a positive whole number, got '${String(args.limit)}'.`);
  }
  const lines: string[] = [];
  const entries = [];
  for (const { env, flags } of await targets(ctx, args)) {
    const history = await flags.history(args.name, { env, limit });
    entries.push(...history);
    lines.push(`${args.name} [${env}]: ${history.length === 0 ? 'no changes recorded' : ''}`.trimEnd(), ...history.map((h) => `  ${describeAudit(h)}`));
  }
  return { ok: true, text: lines.join('\n'), data: { entries } };
}

/** Problems in definitions, stored-but-undefined flags (every configured environment's database), unreferenced definitions. */
export async function featureLint(ctx: FeatureCliContext, args: { src?: IdList; database?: boolean } = {}): Promise<FeatureResult> {
  const stored = new Set<string>();
  const dbProblems: string[] = [];
  if (args.database !== false) {
    for (const env of ctx.environments) {
      try {
        for (const name of await (await ctx.flagsFor(env)).storedNames()) stored.add(name);
      } catch (err) {
        dbProblems.push(`database [${env}]: stored flags not checked: ${(err as Error).message}`);
      }
    }
  }
  const result = lintFlags({ definitionDirs: ctx.definitionDirs ?? [], storedNames: [...stored], srcDirs: splitIds('src', args.src) });
  const problems = [...result.problems, ...dbProblems];
  const text = problems.length > 0 ? problems.join('\n') : `${result.definitionCount} flag definition${result.definitionCount === 1 ? '' : 's'} OK`;
  return { ok: problems.length === 0, text, data: { problems, definitionCount: result.definitionCount } };
}
