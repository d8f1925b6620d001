import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { configFileSchema, ConfigFileError, type ConfigFile, type EnvironmentConfig } from './config-file.js';
import { DEFAULT_FLAGS_DATABASE } from './flags-config.js';

export const CONFIG_FILE_NAMES = ['lagless.config.js', 'lagless.config.mjs', 'lagless.config.json'] as const;
const DEFAULT_DEFINITIONS = 'config/feature_flags';

export interface LoadConfigFileOptions {
  /** `--config`; otherwise the first of CONFIG_FILE_NAMES in `cwd`. */
  readonly path?: string;
  readonly cwd?: string;
  /** Reads LAGLESS_ENV (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** No file found ⇒ no environments instead of an error (`feature lint` still checks definitions). */
  readonly optional?: boolean;
}

export async function loadConfigFile(options: LoadConfigFileOptions = {}): Promise<ConfigFile> {
  const cwd = options.cwd ?? process.cwd();
  const path = options.path ? resolve(cwd, options.path) : CONFIG_FILE_NAMES.map((name) => resolve(cwd, name)).find((candidate) => existsSync(candidate));
  if (!path) {
    if (options.optional) return { source: '(no config file)', environments: {}, defaultEnvironment: undefined, defaultFrom: '', flagsDatabase: DEFAULT_FLAGS_DATABASE, definitionDirs: [resolve(cwd, DEFAULT_DEFINITIONS)] };
    throw new ConfigFileError(`No ${CONFIG_FILE_NAMES.join(', ')} in ${cwd}; create one that maps environments to Redis and database URLs (see the README), or pass --config <file>.`);
  }
  if (!existsSync(path)) throw new ConfigFileError(`Config file ${path} does not exist.`);
  const parsed = configFileSchema.safeParse(await readRaw(path));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigFileError(`${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}.`);
  }
  const file = parsed.data;
  const names = Object.keys(file.environments);
  const fromEnv = (options.env ?? process.env).LAGLESS_ENV;
  const [defaultEnvironment, defaultFrom] = fromEnv
    ? [fromEnv, `LAGLESS_ENV=${fromEnv}`]
    : file.defaultEnvironment
      ? [file.defaultEnvironment, `defaultEnvironment in ${path}`]
      : names.length === 1
        ? [names[0], `the only environment in ${path}`]
        : [undefined, ''];
  const environments: Record<string, EnvironmentConfig> = {};
  for (const [name, env] of Object.entries(file.environments)) {
    const redis = typeof env.redis === 'string' ? { url: env.redis, prefix: 'lagless' } : env.redis ? { ...env.redis, prefix: env.redis.prefix ?? 'lagless' } : undefined;
    environments[name] = { ...(redis ? { redis } : {}), ...(env.databases ? { databases: env.databases } : {}) };
  }
  const definitions = file.flags?.definitions ?? DEFAULT_DEFINITIONS;
  return {
    source: path,
    environments,
    defaultEnvironment,
    defaultFrom,
    flagsDatabase: file.flags?.database ?? DEFAULT_FLAGS_DATABASE,
    definitionDirs: (typeof definitions === 'string' ? [definitions] : definitions).map((dir) => resolve(dirname(path), dir)),
  };
}

async function readRaw(path: string): Promise<unknown> {
  const ext = extname(path);
  if (ext === '.json') {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as unknown;
    } catch (err) {
      throw new ConfigFileError(`${path} is not valid JSON: ${(err as Error).message}.`);
    }
  }
  if (ext !== '.js' && ext !== '.mjs') throw new ConfigFileError(`${path}: use a .js, .mjs or .json config file.`);
  try {
    const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
    if (module.default === undefined) throw new ConfigFileError(`${path} must export the config as its default export: export default { environments: { … } }.`);
    return module.default;
  } catch (err) {
    if (err instanceof ConfigFileError) throw err;
    throw new ConfigFileError(`${path} could not be loaded: ${(err as Error).message.split('\n')[0]}.`);
  }
}
