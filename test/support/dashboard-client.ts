import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A dashboard handler on a free loopback port; `close()` ends open event streams too. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ base: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
  headers: Headers;
}

/** A browser-like client: keeps the session cookies and sends the CSRF token it was given. */
export class DashboardClient {
  private readonly cookies = new Map<string, string>();
  csrf = '';

  constructor(readonly base: string) {}

  /** GET /api/session: the session cookie and this session's CSRF token. */
  async open(): Promise<this> {
    const { body } = await this.request('GET', '/api/session');
    this.csrf = body.csrfToken;
    return this;
  }

  async request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; csrf?: boolean; raw?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (options.csrf !== false && method !== 'GET' && this.csrf) headers['x-csrf-token'] ??= this.csrf;
    let payload: string | undefined = options.raw;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(options.body);
    }
    const res = await fetch(this.base + path, { method, headers, body: payload });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1);
      if (value === '' || /Max-Age=0/.test(line)) this.cookies.delete(pair!.slice(0, eq));
      else this.cookies.set(pair!.slice(0, eq), value);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // pages, metrics and assets are not JSON
    }
    return { status: res.status, body, headers: res.headers };
  }

  get(path: string): Promise<Answer> {
    return this.request('GET', path);
  }
}

/** A definitions directory with one beta flag whose rollout issue link and group the pages show. */
export function flagDefinitionsDir(name = 'dash_rollout'): string {
  const dir = mkdtempSync(join(tmpdir(), 'lagless-dash-flags-'));
  mkdirSync(join(dir, 'beta'));
  writeFileSync(
    join(dir, 'beta', `${name}.yml`),
    `---\nname: ${name}\ntype: beta\ndefault_enabled: false\ngroup: group::checkout\nmilestone: '1.2'\nintroduced_by_url: https://example.com/mr/1\nrollout_issue_url: https://example.com/issues/7\nlog_state_changes: true\n`,
  );
  return dir;
}
