import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Databases } from '../../src/db/databases.js';
import { ReplicaDiscovery, replicaUrlFor } from '../../src/db/discovery.js';
import { LoadBalancer } from '../../src/db/load-balancer.js';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { FakePool } from '../support/fake-pool.js';
import { startDnsServer, type DnsZone } from '../support/dns-server.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => void, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(25);
    }
  }
}

describe('DNS replica discovery', () => {
  const zone: DnsZone = { a: new Map(), srv: new Map(), ttlSeconds: 30 };
  let dns: Awaited<ReturnType<typeof startDnsServer>>;

  beforeAll(async () => {
    dns = await startDnsServer(zone);
  });
  afterAll(async () => {
    await dns?.close();
  });

  function fakeBalancer(): { lb: LoadBalancer; pools: Map<string, FakePool> } {
    const pools = new Map<string, FakePool>();
    const lb = new LoadBalancer({ database: 'main', primaryUrl: 'postgres://app:pw@primary:5432/app', poolFactory: (url) => pools.set(url, new FakePool()).get(url)! });
    return { lb, pools };
  }

  it('adds hosts from A records, drains and closes removed ones, and keeps the set when DNS fails', async () => {
    zone.a.set('replicas.db.test', ['10.0.0.1', '10.0.0.2']);
    const { lb, pools } = fakeBalancer();
    const discovery = new ReplicaDiscovery(
      { record: 'replicas.db.test', type: 'A', nameserver: '127.0.0.1', port: dns.port, intervalMs: 50, databasePort: 6432 },
      (hosts) => lb.setReplicas(hosts.map((host) => replicaUrlFor('postgres://app:pw@primary:5432/app', host))),
    );
    try {
      await discovery.start();
      expect(lb.replicas.map((h) => h.url)).toEqual(['postgres://app:pw@10.0.0.1:6432/app', 'postgres://app:pw@10.0.0.2:6432/app']);
      zone.a.set('replicas.db.test', ['10.0.0.2', '10.0.0.3']);
      await eventually(() => expect(lb.replicas.map((h) => h.label)).toEqual(['10.0.0.2:6432', '10.0.0.3:6432']));
      expect(pools.get('postgres://app:pw@10.0.0.1:6432/app')!.ended).toBe(true);
      expect(pools.get('postgres://app:pw@10.0.0.2:6432/app')!.ended).toBe(false);
      zone.a.delete('replicas.db.test'); // NXDOMAIN: a lookup failure, not "no replicas"
      const asked = dns.queries.length;
      await eventually(() => expect(dns.queries.length).toBeGreaterThan(asked + 1));
      expect(lb.replicas).toHaveLength(2);
    } finally {
      discovery.stop();
      await lb.close();
    }
  });

  it('resolves SRV targets to addresses through the same nameserver', async () => {
    zone.srv.set('_pg._tcp.db.test', [
      { priority: 1, weight: 1, port: 7001, target: 'db-a.db.test' },
      { priority: 1, weight: 1, port: 7002, target: 'db-b.db.test' },
    ]);
    zone.a.set('db-a.db.test', ['10.1.0.1']);
    zone.a.set('db-b.db.test', ['10.1.0.2']);
    const seen: string[][] = [];
    const discovery = new ReplicaDiscovery({ record: '_pg._tcp.db.test', type: 'SRV', nameserver: '127.0.0.1', port: dns.port }, (hosts) => {
      seen.push(hosts.map((h) => `${h.address}:${h.port}`));
    });
    await discovery.refresh();
    await discovery.refresh(); // unchanged answer: no second report
    discovery.stop();
    expect(seen).toEqual([['10.1.0.1:7001', '10.1.0.2:7002']]);
    expect(dns.queries).toContain('SRV _pg._tcp.db.test');
  });

  describe('with a real replica', () => {
    let cluster: PostgresCluster;
    beforeAll(async () => {
      cluster = await startPostgresCluster({ replicas: 1 });
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    it('routes reads to a replica found by SRV discovery', async () => {
      const replicaPort = Number(new URL(cluster.replicaUrls[0]!).port);
      zone.srv.set('_pg._tcp.real.test', [{ priority: 1, weight: 1, port: replicaPort, target: 'replica.real.test' }]);
      zone.a.set('replica.real.test', ['127.0.0.1']);
      const databases = new Databases({ main: { primary: cluster.primaryUrl, discover: { record: '_pg._tcp.real.test', type: 'SRV', nameserver: '127.0.0.1', port: dns.port, intervalMs: 60_000 } } });
      try {
        await databases.start();
        const [replica] = databases.balancer('main').replicas;
        expect(replica?.label).toBe(`127.0.0.1:${replicaPort}`);
        const { rows } = await databases.sessions.run(() => databases.db('main').query<{ standby: boolean }>('select pg_is_in_recovery() as standby'));
        expect(rows).toEqual([{ standby: true }]);
      } finally {
        await databases.close();
      }
    });
  });
});
