import { describeGates } from '../../flags/describe.js';
import type { FlagAuditEntry } from '../../flags/store/flag-store.js';
import type { FlagDefinition, FlagValue } from '../../flags/types.js';
import type { DashboardFlags } from '../dashboard-deps.js';
import { badRequest, HttpError, readJsonBody, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { environmentName, flagName, limit as checkLimit, person } from '../validate.js';
import type { ApiDeps } from './deps.js';

const BODY_KEYS = new Set(['value', 'actors', 'env', 'by']);
const NOT_CONFIGURED = {
  configured: false,
  hint: 'Feature flags are not configured here, so nothing is shown and changes are refused. In an app: pass databases and flags to createLagless. For `lagless dashboard`: a lagless.config.{js,mjs,json} whose environment names its flags database (databases.main.primary), chosen with --env.',
};

/**
 * Flags through `app.flags`, the object the `lagless feature` commands use: the same validation, audit rows
 * and change notices whichever way a flag is changed.
 */
export function flagRoutes(router: Router, deps: ApiDeps): void {
  const flagsOrNull = (): DashboardFlags | null => deps.app.flags ?? null;
  const environments = (flags: DashboardFlags): readonly string[] => flags.environments ?? [flags.environment];

  router.get('/api/flags', async ({ res, query }) => {
    const flags = flagsOrNull();
    if (!flags) return sendJson(res, 200, NOT_CONFIGURED);
    const envs = environments(flags);
    const env = environmentName(query.get('env'), envs) ?? flags.environment;
    const perEnv = await Promise.all(envs.map(async (e) => [e, await flags.list({ env: e })] as const));
    const shown = perEnv.find(([e]) => e === env)![1];
    sendJson(res, 200, {
      configured: true,
      environment: flags.environment,
      environments: envs,
      env,
      flags: shown.map((info) => ({
        name: info.name,
        state: info.state,
        gates: info.gates,
        summary: describeGates(info.gates),
        definition: publicDefinition(info.definition),
        environments: Object.fromEntries(perEnv.map(([e, infos]) => {
          const other = infos.find((i) => i.name === info.name);
          return [e, other ? { state: other.state, gates: other.gates } : null];
        })),
      })),
    });
  });

  router.get('/api/flags/:name', async ({ res, params, query }) => {
    const flags = flagsOrNull();
    if (!flags) return sendJson(res, 200, NOT_CONFIGURED);
    const name = flagName(params.name);
    const env = environmentName(query.get('env'), environments(flags)) ?? flags.environment;
    const [info, history] = await Promise.all([flags.get(name, { env }), flags.history(name, { env, limit: checkLimit(query.get('limit'), 20, 200) })]);
    sendJson(res, 200, { configured: true, ...info, summary: describeGates(info.gates), definition: publicDefinition(info.definition), history: history.map(withSummaries) });
  });

  router.post('/api/flags/:name', async ({ req, res, params, caller }) => {
    const flags = flagsOrNull();
    if (!flags) throw new HttpError(409, 'FLAGS_NOT_CONFIGURED', NOT_CONFIGURED.hint);
    const name = flagName(params.name);
    const body = await readJsonBody(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Send a JSON object: { "value": true | false | { "percentageOfActors": 25 } | { "percentageOfTime": 25 }, "actors"?: ["User:1"], "env"?: "production", "by"?: "your name" }.');
    const record = body as Record<string, unknown>;
    const unknown = Object.keys(record).filter((key) => !BODY_KEYS.has(key));
    if (unknown.length > 0) throw badRequest(`Unknown field ${unknown.map((k) => `'${k.slice(0, 40)}'`).join(', ')}; send { value, actors?, env?, by? }.`);
    const env = environmentName(record.env, environments(flags)) ?? flags.environment;
    const who = caller?.user ?? person(record.by) ?? 'anonymous';
    const change = await flags.set(name, flagValue(record), { by: `${who} (dashboard)`, env });
    sendJson(res, 200, { change });
  });
}

/** Audit entries with the CLI's wording of the gates before and after, so both tell a change the same way. */
function withSummaries(entry: FlagAuditEntry): FlagAuditEntry & { before: string; after: string } {
  return { ...entry, before: describeGates(entry.oldGates), after: describeGates(entry.newGates) };
}

/** The definition without `source`, a path on the server that the page has no use for. */
function publicDefinition(definition: FlagDefinition | null): Omit<FlagDefinition, 'source'> | null {
  if (!definition) return null;
  const { source: _source, ...rest } = definition;
  return rest;
}

/**
 * `{ value: true|false, actors: [...] }` is the CLI's `set NAME true --user=1`; everything else is passed as
 * `value` to flags.set, which validates it exactly as for the CLI (percentages 0-100, 3 decimals, …).
 */
function flagValue(body: Record<string, unknown>): FlagValue {
  if (!('value' in body)) throw badRequest('value is required: true, false, { "percentageOfActors": N } or { "percentageOfTime": N }.');
  const { value, actors } = body;
  if (actors === undefined) return value as FlagValue;
  if (typeof value !== 'boolean') throw badRequest('actors goes with value true (enable the flag for these actors) or false (disable it for them).');
  if (!Array.isArray(actors)) throw badRequest(`actors must be a list of actor ids such as ["User:42"]; got ${JSON.stringify(actors).slice(0, 80)}.`);
  return { actors: actors as string[], enabled: value };
}
