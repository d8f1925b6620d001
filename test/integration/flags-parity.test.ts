import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { featureGet, featureHistory, type FeatureCliContext } from '../../src/flags/cli-actions.js';
import { UndefinedFlagError } from '../../src/flags/errors.js';
import { createFlags, type Flags } from '../../src/flags/flags.js';
import { migrateFlags } from '../../src/flags/migrate.js';
import { LaglessOpenFeatureProvider } from '../../src/flags/openfeature.js';
import type { FlagStore } from '../../src/flags/store/flag-store.js';
import { MemoryFlagStore } from '../../src/flags/store/memory.js';
import { PostgresFlagStore } from '../../src/flags/store/postgres.js';
import type { FlagDefinition } from '../../src/flags/types.js';
import { freePort } from '../../src/sandbox/redis-server.js';
import { waitFor } from '../helpers/log-capture.js';
import { definition, definitions, recordingLogger } from '../unit/flags-helpers.js';
import { startFlagsPgSandbox, type FlagsPgSandbox } from './flags-pg-sandbox.js';

// Behaviours of Flipper and of the OpenFeature specification's evaluation scenarios that lagless mirrors
// (issue 14, points 4–10), on both flag stores.

let sandbox: FlagsPgSandbox;
beforeAll(async () => {
  sandbox = await startFlagsPgSandbox();
  await migrateFlags(sandbox.pool);
});
afterAll(async () => sandbox?.stop());

const described: FlagDefinition = {
  ...definition('described_flag'),
  type: 'beta',
  group: 'group::scalability',
  milestone: '17.2',
  rolloutIssueUrl: 'https://example.com/issues/42',
};
const DEFINITIONS = definitions(definition('new_ui'), definition('fast_path', true), described);

const stores: Array<[string, () => FlagStore]> = [
  ['memory', () => new MemoryFlagStore()],
  ['postgres', () => new PostgresFlagStore(sandbox.pool)],
];

describe.each(stores)('Flipper and OpenFeature parity on the %s flag store', (_name, store) => {
  const opened: Flags[] = [];
  afterEach(async () => Promise.all(opened.splice(0).map((f) => f.close())));
  function setup(): { flags: Flags; provider: LaglessOpenFeatureProvider; env: string; flagStore: FlagStore } {
    const env = `env_${randomUUID().slice(0, 8)}`;
    const flagStore = store();
    const flags = createFlags({ store: flagStore, definitions: DEFINITIONS, environment: env, logger: recordingLogger(), reloadIntervalMs: 60_000 });
    opened.push(flags);
    return { flags, env, flagStore, provider: new LaglessOpenFeatureProvider(flags, { readyTimeoutMs: 2000 }) };
  }
  const cli = (flags: Flags, env: string): FeatureCliContext => ({ environments: [env], defaultEnvironment: env, flagsFor: () => flags });

  it('Flipper: a flag at 100 % of actors reads as on, like 100 % of time (get, list, CLI, dashboard data)', async () => {
    const { flags, env } = setup();
    await flags.set('new_ui', { percentageOfActors: 100 });
    expect((await flags.get('new_ui')).state).toBe('on');
    expect((await flags.list()).find((f) => f.name === 'new_ui')?.state).toBe('on');
    expect((await featureGet(cli(flags, env), { name: 'new_ui' })).text).toMatch(/^new_ui \[env_\w+\]: on \(100% of actors\)/);
    await flags.set('new_ui', { percentageOfActors: 99.999 });
    expect((await flags.get('new_ui')).state).toBe('conditional');
  });

  it('Flipper: a group predicate answering a truthy non-boolean enables the flag; a falsy one does not', async () => {
    const { flags } = setup();
    const answers: Record<string, unknown> = { 'User:yes': 'yes', 'User:one': 1, 'User:zero': 0, 'User:empty': '', 'User:null': null };
    flags.registerGroup('truthy', (subject) => answers[String((subject as { flipperId: string }).flipperId)]);
    await flags.set('new_ui', { groups: ['truthy'], enabled: true });
    await flags.reload();
    const on = Object.keys(answers).filter((id) => flags.enabled('new_ui', { flipperId: id }));
    expect(on).toEqual(['User:yes', 'User:one']);
    // A Promise is truthy too, but would open the flag for everyone: refused, and evaluation still never throws.
    flags.registerGroup('truthy', async () => false);
    expect(flags.evaluate('new_ui', 'User:zero')).toMatchObject({ value: false, reason: 'ERROR', errorMessage: expect.stringMatching(/returned a Promise/) });
  });

  it('OpenFeature: maps every outcome to the spec reasons (STATIC, TARGETING_MATCH, SPLIT, DEFAULT, DISABLED, ERROR)', async () => {
    const { flags, provider } = setup();
    await provider.initialize();
    const resolve = (key: string, context?: Record<string, unknown>) => provider.resolveBooleanEvaluation(key, true, context);
    flags.registerGroup('staff', (subject) => typeof subject === 'object' && String((subject as { flipperId?: unknown }).flipperId).startsWith('Staff:'));

    expect(await resolve('fast_path')).toMatchObject({ value: true, reason: 'DEFAULT' }); // nothing stored
    await flags.set('new_ui', { actors: ['User:1'], enabled: true });
    expect(await resolve('new_ui', { targetingKey: 'User:1' })).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(await resolve('new_ui', { targetingKey: 'User:2' })).toMatchObject({ value: false, reason: 'DEFAULT' }); // non-matching actor
    expect(await resolve('new_ui', {})).toMatchObject({ value: false, reason: 'DEFAULT' }); // empty context
    expect(await provider.resolveBooleanEvaluation('new_ui', true, undefined)).toMatchObject({ value: false, reason: 'DEFAULT' }); // no context
    await flags.set('new_ui', { groups: ['staff'], enabled: true });
    expect(await resolve('new_ui', { targetingKey: 'Staff:3' })).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    await flags.set('new_ui', true);
    expect(await resolve('new_ui')).toMatchObject({ value: true, reason: 'STATIC' });
    await flags.set('new_ui', false);
    expect(await resolve('new_ui', { targetingKey: 'User:1' })).toMatchObject({ value: false, reason: 'DISABLED' }); // explicitly off
    await flags.set('new_ui', { percentageOfActors: 100 });
    expect(await resolve('new_ui', { targetingKey: 'User:2' })).toMatchObject({ value: true, reason: 'SPLIT' });
    expect(await resolve('new_ui', {})).toMatchObject({ value: false, reason: 'DEFAULT' }); // no actor to bucket
    await flags.set('new_ui', false);
    await flags.set('new_ui', { percentageOfTime: 0.001 });
    expect(await resolve('new_ui')).toMatchObject({ value: false, reason: 'SPLIT' }); // the time gate rolled against it
    expect(await resolve('no_such_flag')).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    flags.registerGroup('staff', () => {
      throw new Error('directory down');
    });
    await flags.set('new_ui', false);
    await flags.set('new_ui', { groups: ['staff'], enabled: true });
    expect(await resolve('new_ui', { targetingKey: 'Staff:3' })).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'GENERAL' });
  });

  it('OpenFeature: a context without targetingKey reaches group predicates; percentages bucket on targetingKey only', async () => {
    const { flags, provider } = setup();
    await provider.initialize();
    flags.registerGroup('staff_email', (subject) => typeof subject === 'object' && String((subject as { email?: unknown }).email).endsWith('@staff.example'));
    await flags.set('new_ui', { groups: ['staff_email'], enabled: true });
    expect(await provider.resolveBooleanEvaluation('new_ui', false, { email: 'ann@staff.example' })).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(await provider.resolveBooleanEvaluation('new_ui', false, { email: 'bob@else.example' })).toMatchObject({ value: false, reason: 'DEFAULT' });
    await flags.set('new_ui', { groups: ['staff_email'], enabled: false });
    await flags.set('new_ui', { percentageOfActors: 50 });
    expect(await provider.resolveBooleanEvaluation('new_ui', false, { email: 'ann@staff.example' })).toMatchObject({ value: false, reason: 'DEFAULT' });
    for (let i = 0; i < 20; i++) {
      const expected = flags.enabled('new_ui', `User:${i}`);
      for (const email of ['a@x.example', 'b@y.example']) {
        expect((await provider.resolveBooleanEvaluation('new_ui', !expected, { targetingKey: `User:${i}`, email })).value).toBe(expected);
      }
    }
  });

  it('OpenFeature: returns the definition type, group, milestone and rollout issue as flagMetadata', async () => {
    const { flags, provider } = setup();
    await provider.initialize();
    expect((await provider.resolveBooleanEvaluation('described_flag', false)).flagMetadata).toEqual({
      type: 'beta', group: 'group::scalability', milestone: '17.2', rollout_issue_url: 'https://example.com/issues/42',
    });
    await flags.set('new_ui', true);
    expect((await provider.resolveBooleanEvaluation('new_ui', false)).flagMetadata).toEqual({ type: 'development', gate: 'boolean' });
  });

  it('lagless feature history <undefined flag> is rejected like set and get; a removed flag keeps its history', async () => {
    const { flags, env, flagStore } = setup();
    await expect(featureHistory(cli(flags, env), { name: 'no_such_flag' })).rejects.toThrow(UndefinedFlagError);
    expect((await featureHistory(cli(flags, env), { name: 'new_ui' })).text).toBe(`new_ui [${env}]: no changes recorded`);
    // A flag stored before its definition was removed: its audit trail stays readable.
    const other = createFlags({ store: flagStore, definitions: definitions(definition('retired_flag')), environment: env, logger: recordingLogger() });
    opened.push(other);
    await other.set('retired_flag', true, { by: 'alice' });
    expect((await featureHistory(cli(flags, env), { name: 'retired_flag' })).data).toMatchObject({ entries: [{ name: 'retired_flag', by: 'alice' }] });
  });
});

describe('OpenFeature provider state while the flag store is unreachable', () => {
  const opened: Flags[] = [];
  afterEach(async () => Promise.all(opened.splice(0).map((f) => f.close())));

  /** A memory store that can be taken down (it stands for a store on the other side of a network). */
  function outageStore(): { store: FlagStore; down: (isDown: boolean) => void } {
    const inner = new MemoryFlagStore();
    let isDown = false;
    const store: FlagStore = Object.create(inner) as FlagStore;
    store.flagLoadAll = (params) => (isDown ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) : inner.flagLoadAll(params));
    return { store, down: (value) => (isDown = value) };
  }

  function provide(store: FlagStore, reloadIntervalMs = 60_000) {
    const flags = createFlags({ store, definitions: DEFINITIONS, environment: 'production', logger: recordingLogger(), reloadIntervalMs });
    opened.push(flags);
    const provider = new LaglessOpenFeatureProvider(flags, { readyTimeoutMs: 300 });
    const events: string[] = [];
    for (const event of ['PROVIDER_READY', 'PROVIDER_ERROR', 'PROVIDER_STALE']) provider.events.addHandler(event, () => void events.push(event));
    return { flags, provider, events };
  }

  it('OpenFeature: PostgreSQL unreachable at start ⇒ initialize fails (PROVIDER_ERROR) and evaluations answer the default with reason ERROR', async () => {
    const deadPool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, connectionTimeoutMillis: 200 });
    try {
      const { provider } = provide(new PostgresFlagStore(deadPool));
      await expect(provider.initialize()).rejects.toMatchObject({ code: 'FLAG_STORE_UNAVAILABLE' });
      expect(provider.status).toBe('ERROR');
      expect(await provider.resolveBooleanEvaluation('fast_path', false)).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' });
    } finally {
      await deadPool.end();
    }
  });

  it('OpenFeature: memory-backed store down at start ⇒ ERROR, READY once it loads, STALE once reloads fail past the interval, READY again', async () => {
    const { store, down } = outageStore();
    const { flags, provider, events } = provide(store, 40);
    down(true);
    await expect(provider.initialize()).rejects.toMatchObject({ code: 'FLAG_STORE_UNAVAILABLE' });
    expect(await provider.resolveBooleanEvaluation('fast_path', false)).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' });
    down(false);
    await waitFor(() => provider.status === 'READY', 5000, 'READY after the store came back');
    expect(await provider.resolveBooleanEvaluation('fast_path', false)).toMatchObject({ value: true, reason: 'DEFAULT' });
    down(true);
    await waitFor(() => provider.status === 'STALE', 5000, 'STALE while reloads fail');
    expect(await provider.resolveBooleanEvaluation('fast_path', false)).toMatchObject({ value: true, reason: 'STALE' });
    expect(flags.freshness()).toBe('stale');
    down(false);
    await waitFor(() => provider.status === 'READY', 5000, 'READY after recovery');
    expect(events).toEqual(['PROVIDER_READY', 'PROVIDER_STALE', 'PROVIDER_READY']);
  });

  it('OpenFeature: through @openfeature/server-sdk the client status goes ERROR, then READY once the store is back', async () => {
    const { OpenFeature } = await import('@openfeature/server-sdk');
    const { store, down } = outageStore();
    const { provider } = provide(store, 40);
    down(true);
    // `as never`: the provider is typed structurally (string literals where the SDK declares enums).
    await expect(OpenFeature.setProviderAndWait('outage', provider as never)).rejects.toMatchObject({ code: 'FLAG_STORE_UNAVAILABLE' });
    const client = OpenFeature.getClient('outage');
    expect(client.providerStatus).toBe('ERROR');
    expect(await client.getBooleanDetails('fast_path', false)).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' });
    down(false);
    await waitFor(() => client.providerStatus === 'READY', 5000, 'client READY');
    expect(await client.getBooleanDetails('fast_path', false)).toMatchObject({ value: true, reason: 'DEFAULT', flagMetadata: { type: 'development' } });
    await OpenFeature.close();
  });
});
