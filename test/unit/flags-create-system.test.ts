import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createFlagSystem } from '../../src/flags/create-flag-system.js';

describe('createFlagSystem', () => {
  it('works embedded (no database, no Redis) with a pino logger, writing one JSON line per change', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const flags = createFlagSystem({ logger: pino(sink), registry: new Registry(), definitions: 'does/not/exist' });
    expect(await flags.ready()).toBe(true);
    const name = 'preserve_latest_wal_locations_for_idempotent_jobs';
    expect(flags.enabled(name)).toBe(true); // default_enabled: true while nothing is stored
    await flags.set(name, false, { by: 'alice' });
    expect(flags.enabled(name)).toBe(false);
    expect(flags.enabled('undefined_in_production')).toBe(false);
    const change = JSON.parse(lines[0]!);
    expect(change).toMatchObject({ key: name, action: 'disable', 'extra.by': 'alice', 'extra.environment': 'production', msg: 'feature flag changed' });
    await flags.close();
  });
});
