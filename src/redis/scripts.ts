import { readFileSync, readdirSync } from 'node:fs';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connection.js';

const DIR = new URL('./scripts/', import.meta.url);

export type ScriptName = 'push' | 'pushMany' | 'pushReady' | 'fetch' | 'ack' | 'later' | 'requeue' | 'maintain' | 'retryNow' | 'delete' | 'dedupOrphans' | 'queued' | 'renew' | 'resume' | 'limitAcquire' | 'limitRelease' | 'limitUsage' | 'lookup' | 'scheduleClaim' | 'scheduleRecord' | 'schedulePush';

interface ScriptSource {
  lua: string;
  /** Keys every call passes. */
  numberOfKeys: number;
  /** Keys per queue after those, for a script over any number of queues (0: a fixed key count). */
  perQueue: number;
}

/**
 * Script sources: the `lib.lua` helpers each one calls + `<name>-<number of keys>.lua`, or `<name>-<f>+<k>n.lua`
 * for a script over any number of queues: f keys, then k per queue (`+n`: any number of keys, at least one).
 * Read once per process.
 */
const SOURCES: ReadonlyMap<ScriptName, ScriptSource> = (() => {
  const helpers = libHelpers(readFileSync(new URL('lib.lua', DIR), 'utf8'));
  const sources = new Map<ScriptName, ScriptSource>();
  for (const file of readdirSync(DIR)) {
    const match = /^([a-z-]+)-(\d+)(?:\+(\d*)n)?\.lua$/.exec(file);
    if (!match) continue;
    const name = match[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as ScriptName;
    if (sources.has(name)) throw new Error(`two Lua files define the script '${name}' in ${DIR.pathname}; remove the stale one`);
    const body = readFileSync(new URL(file, DIR), 'utf8');
    sources.set(name, { lua: [...usedHelpers(helpers, body), body].join('\n'), numberOfKeys: Number(match[2]), perQueue: match[3] === undefined ? 0 : Number(match[3] || 1) });
  }
  return sources;
})();

/** lib.lua cut at each top-level `local function`, in file order (a helper only calls helpers above it). */
function libHelpers(lib: string): { name: string; source: string }[] {
  return lib
    .split(/^(?=local function )/m)
    .slice(1)
    .map((source) => ({ name: /^local function (\w+)/.exec(source)![1]!, source }));
}

/**
 * The helpers a script calls, directly or through other helpers, in lib order. Every `local function` line makes a
 * closure on each call of a script, so a script carries only the helpers it calls.
 */
function usedHelpers(helpers: { name: string; source: string }[], body: string): string[] {
  const used = new Set<string>();
  const calls = (text: string, name: string): boolean => new RegExp(`\\b${name}\\(`).test(text);
  for (let i = helpers.length - 1; i >= 0; i--) {
    const { name } = helpers[i]!;
    if (calls(body, name) || helpers.some((h) => used.has(h.name) && calls(h.source, name))) used.add(name);
  }
  return helpers.filter((h) => used.has(h.name)).map((h) => h.source);
}

/**
 * Register every script on a connection. ioredis then runs them with EVALSHA and falls back to EVAL (which
 * loads the script) on NOSCRIPT, e.g. after a Redis restart or SCRIPT FLUSH; also inside pipelines.
 */
export function defineScripts(redis: RedisClient): void {
  // Without numberOfKeys, ioredis takes the key count as the command's first argument (see runScript).
  for (const [name, { lua, numberOfKeys, perQueue }] of SOURCES) redis.defineCommand(name, perQueue ? { lua } : { lua, numberOfKeys });
}

type ScriptTarget = RedisClient | ChainableCommander;

/** Run a registered script; `keys` must have exactly the count in the file name (`-<f>+<k>n`: f + a non-zero multiple of k). */
export function runScript<T>(target: RedisClient, name: ScriptName, keys: string[], args: (string | number)[]): Promise<T>;
export function runScript(target: ChainableCommander, name: ScriptName, keys: string[], args: (string | number)[]): ChainableCommander;
export function runScript(target: ScriptTarget, name: ScriptName, keys: string[], args: (string | number)[]): unknown {
  const source = SOURCES.get(name);
  const queued = source ? keys.length - source.numberOfKeys : 0;
  const fits = source && (source.perQueue ? queued > 0 && queued % source.perQueue === 0 : queued === 0);
  if (!fits) throw new Error(`script ${name} takes ${source?.numberOfKeys}${source?.perQueue ? ` + ${source.perQueue} per queue` : ''} keys, got ${keys.length}`);
  const command = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
  return source.perQueue ? command.call(target, keys.length, ...keys, ...args) : command.call(target, ...keys, ...args);
}
