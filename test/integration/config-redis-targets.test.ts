import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentConnections } from '../../src/cli/environment-connections.js';
import { loadConfigFile } from '../../src/config/load-config-file.js';

// lagless.config.* environments name Redis as a URL, a cluster or sentinels, like createLagless (no servers here).
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lagless-config-targets-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('Redis targets in lagless.config.*', () => {
  it('keeps a cluster and a sentinel environment as given, with the default prefix, and opens the matching client', async () => {
    const path = write('targets.json', {
      environments: {
        production: { redis: { cluster: { nodes: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'] }, prefix: 'app' } },
        staging: { redis: { sentinels: [{ host: '10.0.0.5', port: 26379 }], name: 'mymaster' } },
      },
    });
    const config = await loadConfigFile({ path, cwd: dir, env: {} });
    expect(config.environments.production!.redis).toEqual({ cluster: { nodes: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'] }, prefix: 'app' });
    expect(config.environments.staging!.redis).toEqual({ sentinels: [{ host: '10.0.0.5', port: 26379 }], name: 'mymaster', prefix: 'lagless' });
    const connections = new EnvironmentConnections(config);
    try {
      expect(connections.redis('production')!.client).toBeInstanceOf(Cluster);
      expect(connections.redis('staging')!.client).toBeInstanceOf(Redis);
      expect(connections.redis('staging')!.client.status).toBe('wait');
    } finally {
      await connections.close();
    }
  });

  it('rejects two targets in one environment, and sentinels without the master name', async () => {
    const both = write('both.json', { environments: { production: { redis: { url: 'redis://r:6379', cluster: { nodes: ['redis://r:7000'] } } } } });
    await expect(loadConfigFile({ path: both, cwd: dir, env: {} })).rejects.toThrow(/environments.production.redis: .*exactly one of url, cluster: \{ nodes \} or sentinels \+ name \(got url and cluster\)/);
    const nameless = write('nameless.json', { environments: { production: { redis: { sentinels: [{ host: 's', port: 26379 }] } } } });
    await expect(loadConfigFile({ path: nameless, cwd: dir, env: {} })).rejects.toThrow(/sentinels need name/);
  });
});
