import { afterEach, describe, expect, it } from 'vitest';
import { createFlags, type Flags } from '../../src/flags/flags.js';
import { LaglessOpenFeatureProvider } from '../../src/flags/openfeature.js';
import { MemoryFlagStore } from '../../src/flags/store/memory.js';
import { definition, definitions, recordingLogger } from './flags-helpers.js';

// The SDK is a peer dependency: the SDK-level tests run when it is installed.
const SDK_NAME = '@openfeature/server-sdk';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped until the peer dependency is installed
const sdk: any = await import(SDK_NAME).catch(() => undefined);

let flags: Flags;
function setup(): LaglessOpenFeatureProvider {
  flags = createFlags({ store: new MemoryFlagStore(), logger: recordingLogger(), environment: 'test', definitions: definitions(definition('new_ui'), definition('fast_path', true)) });
  return new LaglessOpenFeatureProvider(flags);
}
afterEach(async () => flags?.close());

describe('LaglessOpenFeatureProvider', () => {
  it('maps targetingKey to the actor and lagless reasons to OpenFeature reasons', async () => {
    const provider = setup();
    await provider.initialize();
    expect(await provider.resolveBooleanEvaluation('fast_path', false)).toMatchObject({ value: true, reason: 'DEFAULT' });
    await flags.set('new_ui', { actors: ['User:1'], enabled: true });
    expect(await provider.resolveBooleanEvaluation('new_ui', false, { targetingKey: 'User:1' })).toMatchObject({ value: true, reason: 'TARGETING_MATCH', variant: 'on' });
    expect(await provider.resolveBooleanEvaluation('new_ui', true, {})).toMatchObject({ value: false, reason: 'DEFAULT', variant: 'off' });
    await flags.set('new_ui', { percentageOfActors: 100 });
    expect(await provider.resolveBooleanEvaluation('new_ui', false, { targetingKey: 'User:2' })).toMatchObject({ value: true, reason: 'SPLIT' });
    await flags.set('new_ui', true);
    expect(await provider.resolveBooleanEvaluation('new_ui', false)).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('answers the caller default with an error code instead of throwing', async () => {
    const provider = setup();
    expect(await provider.resolveBooleanEvaluation('no_such_flag', true)).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    expect(await provider.resolveStringEvaluation('new_ui', 'x')).toMatchObject({ value: 'x', errorCode: 'TYPE_MISMATCH' });
  });

  it('emits PROVIDER_CONFIGURATION_CHANGED with the changed flag names', async () => {
    const provider = setup();
    await provider.initialize();
    const seen: unknown[] = [];
    provider.events.addHandler('PROVIDER_CONFIGURATION_CHANGED', (details) => void seen.push(details));
    await flags.set('new_ui', true);
    expect(seen).toEqual([{ flagsChanged: ['new_ui'] }]);
    await provider.onClose();
    await flags.set('new_ui', false);
    expect(seen).toHaveLength(1);
  });
});

describe.skipIf(!sdk)('through @openfeature/server-sdk', () => {
  it('resolves details and forwards change events', async () => {
    const { OpenFeature, ProviderEvents } = sdk;
    await OpenFeature.setProviderAndWait(setup());
    const client = OpenFeature.getClient();
    await flags.set('new_ui', { actors: ['User:7'], enabled: true });
    expect(await client.getBooleanDetails('new_ui', false, { targetingKey: 'User:7' })).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(await client.getBooleanDetails('no_such_flag', true)).toMatchObject({ value: true, errorCode: 'FLAG_NOT_FOUND' });
    const changed = new Promise((resolve) => client.addHandler(ProviderEvents.ConfigurationChanged, resolve));
    await flags.set('new_ui', true);
    expect(await changed).toMatchObject({ flagsChanged: ['new_ui'] });
    await OpenFeature.close();
  });
});
