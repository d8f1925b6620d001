import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface DiscoveryOptions {
  /** The DNS name to resolve, e.g. `replica.db.service.consul`. */
  record: string;
  type: 'A' | 'SRV';
  /** Nameserver to ask (default: the system's). */
  nameserver?: string;
  /** Nameserver port (default 53). */
  port?: number;
  /** How often to re-resolve (default 60 s); a shorter record TTL (A only) shortens it. */
  intervalMs?: number;
  /** PostgreSQL port for A records (SRV records carry their own). Default 5432. */
  databasePort?: number;
  /** Per-query timeout (default 2 s). */
  timeoutMs?: number;
}

export interface DiscoveredHost {
  address: string;
  port: number;
}

/**
 * Periodically resolves replica addresses from DNS and reports the full set when it changes. A failed lookup
 * keeps the previous set: a DNS hiccup must not empty the replica pool. SRV targets are resolved to
 * addresses with the same nameserver (pg would otherwise use the system resolver).
 */
export class ReplicaDiscovery {
  private readonly resolver: Resolver;
  private timer: NodeJS.Timeout | undefined;
  private current = '';
  private stopped = false;
  lastError: unknown;

  constructor(
    private readonly options: DiscoveryOptions,
    private readonly onChange: (hosts: DiscoveredHost[]) => Promise<void> | void,
  ) {
    this.resolver = new Resolver({ timeout: options.timeoutMs ?? 2_000, tries: 2 });
    if (options.nameserver) {
      const server = isIP(options.nameserver) === 6 ? `[${options.nameserver}]` : options.nameserver;
      this.resolver.setServers([`${server}:${options.port ?? 53}`]);
    }
  }

  /** Resolve once now, then keep refreshing until stop(). */
  async start(): Promise<void> {
    const ttlMs = await this.refresh();
    this.schedule(ttlMs);
  }

  /** Resolve and report a changed set; returns the shortest TTL seen (ms), if any. */
  async refresh(): Promise<number | undefined> {
    let hosts: DiscoveredHost[];
    let ttlMs: number | undefined;
    try {
      ({ hosts, ttlMs } = this.options.type === 'A' ? await this.resolveA() : await this.resolveSrv());
    } catch (error) {
      this.lastError = error;
      return undefined;
    }
    hosts.sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1));
    const key = JSON.stringify(hosts);
    if (key !== this.current && !this.stopped) {
      this.current = key;
      await this.onChange(hosts);
    }
    return ttlMs;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ttlMs: number | undefined): void {
    if (this.stopped) return;
    const intervalMs = this.options.intervalMs ?? 60_000;
    const delay = ttlMs !== undefined && ttlMs > 0 ? Math.min(intervalMs, ttlMs) : intervalMs;
    this.timer = setTimeout(async () => this.schedule(await this.refresh()), delay);
    this.timer.unref();
  }

  private async resolveA(): Promise<{ hosts: DiscoveredHost[]; ttlMs: number | undefined }> {
    const records = await this.resolver.resolve4(this.options.record, { ttl: true });
    const port = this.options.databasePort ?? 5432;
    const ttl = records.length > 0 ? Math.min(...records.map((r) => r.ttl)) * 1000 : undefined;
    return { hosts: records.map((r) => ({ address: r.address, port })), ttlMs: ttl };
  }

  private async resolveSrv(): Promise<{ hosts: DiscoveredHost[]; ttlMs: number | undefined }> {
    const records = await this.resolver.resolveSrv(this.options.record);
    const hosts = await Promise.all(
      records.map(async (r) => {
        const addresses = isIP(r.name) ? [r.name] : await this.resolver.resolve4(r.name);
        return addresses.map((address) => ({ address, port: r.port }));
      }),
    );
    return { hosts: hosts.flat(), ttlMs: undefined };
  }
}

/** The replica URL for a discovered host: the template's credentials and database, the host's address and port. */
export function replicaUrlFor(templateUrl: string, host: DiscoveredHost): string {
  const url = new URL(templateUrl);
  url.hostname = isIP(host.address) === 6 ? `[${host.address}]` : host.address;
  url.port = String(host.port);
  return url.toString();
}
