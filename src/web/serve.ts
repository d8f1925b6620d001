import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import type { DashboardApp } from './dashboard-deps.js';
import { isLoopbackHost } from './auth.js';
import { Dashboard } from './dashboard.js';
import type { DashboardOptions } from './options.js';

export interface ServeDashboardOptions extends Omit<DashboardOptions, 'allowLoopbackMutations' | 'basePath'> {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. Any other address needs a token. */
  host?: string;
}

export interface ServedDashboard {
  readonly url: string;
  readonly dashboard: Dashboard;
  readonly server: Server;
  /** One line for the terminal: where it is and what protects it. */
  readonly banner: string;
  close(): Promise<void>;
}

/**
 * A standalone dashboard server (`lagless dashboard`, the demo). Without a token it listens on loopback only
 * and lets this machine make changes (still with CSRF tokens); with one, changes need the token.
 */
export async function serveDashboard(app: DashboardApp, options: ServeDashboardOptions): Promise<ServedDashboard> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? (process.env.LAGLESS_DASHBOARD_TOKEN || undefined);
  if (!token && !isLoopbackHost(host)) {
    throw new InvalidOptionError(`Refusing to listen on ${host} without a token: job payloads and flag controls would be open to the network. Pass --token (or set LAGLESS_DASHBOARD_TOKEN), or leave --host at 127.0.0.1.`);
  }
  const { port: _port, host: _host, ...rest } = options;
  const dashboard = new Dashboard(app, { ...rest, token, allowLoopbackMutations: !token });
  const server = createServer(dashboard.handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      dashboard.close();
      reject(error);
    });
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  void dashboard.start();
  const protection = options.readOnly ? 'read-only' : token ? 'changes need the token' : 'no token: loopback only, changes allowed from this machine';
  return {
    url,
    dashboard,
    server,
    banner: `Dashboard: ${url} (${protection})`,
    async close() {
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

