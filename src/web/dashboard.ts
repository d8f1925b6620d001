import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { cronRoutes } from './api/cron.js';
import { databaseRoutes } from './api/databases.js';
import { dedupRoutes } from './api/dedup.js';
import type { ApiDeps } from './api/deps.js';
import { flagRoutes } from './api/flags.js';
import { historyRoutes } from './api/history.js';
import { jobBulkRoutes } from './api/job-bulk.js';
import { jobRoutes } from './api/jobs.js';
import { limitRoutes } from './api/limits.js';
import { queueRoutes } from './api/queues.js';
import { sessionRoutes } from './api/session.js';
import { streamRoutes } from './api/stream.js';
import { DashboardAuth, requestNamesLoopback } from './auth.js';
import type { DashboardApp } from './dashboard-deps.js';
import { toHttpError } from './errors.js';
import { HttpError, send, sendError } from './http.js';
import { resolveDashboardOptions, type DashboardOptions, type ResolvedDashboardOptions } from './options.js';
import { PAGES, renderPage } from './pages.js';
import { queueMetricsRegistry } from './queue-metrics.js';
import { Router } from './router.js';
import { Sampler } from './sampler.js';
import { SseHub } from './sse.js';
import { StaticAssets } from './static-assets.js';

/** A Node request handler; `next` (Express) is called for paths that are not the dashboard's. */
export type DashboardHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * The web dashboard of one app: pages, JSON API, live samples over SSE and `/metrics`, behind one handler
 * for `node:http`, Express (`app.use('/lagless', handler)`) or Fastify (with `basePath`). Sampling starts
 * with the first request (or `start()`) and stops on `close()`; the app's `close()` calls it.
 */
export class Dashboard {
  readonly options: ResolvedDashboardOptions;
  readonly handler: DashboardHandler;
  private readonly router = new Router();
  private readonly sampler: Sampler;
  private readonly hub = new SseHub();
  private readonly auth: DashboardAuth;
  private readonly assets = new StaticAssets();
  private readonly queueMetrics: Registry;

  constructor(
    private readonly app: DashboardApp,
    options: DashboardOptions = {},
    private readonly clock: { now?: () => number } = {},
  ) {
    this.options = resolveDashboardOptions(options);
    const now = clock.now ?? Date.now;
    this.auth = new DashboardAuth(this.options);
    this.sampler = new Sampler({ app, intervalMs: this.options.sampleIntervalMs, historyMs: this.options.historyMs, now, logger: app.logger });
    this.sampler.onSample((sample) => this.hub.broadcast('sample', sample));
    this.queueMetrics = queueMetricsRegistry(app.store, now);
    const deps: ApiDeps = {
      app,
      sampler: this.sampler,
      hub: this.hub,
      auth: this.auth,
      now,
      audit: (event, fields) => app.logger?.info({ event, ...fields }, event.replaceAll('_', ' ')),
    };
    for (const routes of [queueRoutes, jobRoutes, dedupRoutes, databaseRoutes, flagRoutes, sessionRoutes, streamRoutes, limitRoutes, jobBulkRoutes, historyRoutes, cronRoutes]) routes(this.router, deps);
    this.pageRoutes();
    this.handler = (req, res, next) => void this.handle(req, res, next);
  }

  /** Start sampling now rather than on the first request, so the charts have history when a page first opens. */
  start(): Promise<void> {
    return this.sampler.start();
  }

  /** Stop sampling and end open event streams. */
  close(): void {
    this.sampler.stop();
    this.hub.close();
  }

  private pageRoutes(): void {
    for (const page of PAGES) {
      this.router.get(page.path, ({ req, res, mount }) => {
        void this.sampler.start();
        const { sid, setCookie } = this.auth.csrf.session(req, mount);
        const html = renderPage(page, { mount, csrfToken: this.auth.csrf.token(sid), access: this.auth.access, signedIn: !setCookie && this.auth.signedIn(req) });
        send(res, 200, 'text/html; charset=utf-8', html, setCookie ? { 'set-cookie': setCookie } : {});
      });
    }
    this.router.get('/assets/:name', ({ req, res, params }) => {
      if (!this.assets.serve(params.name!, req, res)) throw new HttpError(404, 'NOT_FOUND', `No asset '${params.name!.slice(0, 60)}'.`);
    });
    if (this.options.metrics) {
      this.router.get('/metrics', async ({ res }) => {
        const registry = Registry.merge([this.app.metrics, this.queueMetrics]);
        send(res, 200, registry.contentType, await registry.metrics());
      });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<void> {
    const located = this.locate(req);
    if (!located) return next ? next() : sendError(res, new HttpError(404, 'NOT_FOUND', `Not found; the dashboard is under ${this.options.basePath}/.`));
    const { mount, url } = located;
    const method = req.method ?? 'GET';
    const match = this.router.match(method, url.pathname);
    try {
      if (!match) {
        if (next) return next();
        throw new HttpError(404, 'NOT_FOUND', `Nothing at ${url.pathname.slice(0, 100)}; pages: ${PAGES.map((p) => p.path).join(' ')}; API under /api (see the README).`);
      }
      if ('allowed' in match) {
        res.setHeader('allow', match.allowed.join(', '));
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${match.allowed.join(' or ')}.`);
      }
      if (this.auth.access === 'loopback' && !requestNamesLoopback(req)) {
        throw new HttpError(421, 'MISDIRECTED', 'This dashboard has no token and answers only to localhost or 127.0.0.1 in the address bar; use one of those, or start it with a token.');
      }
      const caller = match.mutates ? await this.auth.mutation(req) : undefined;
      await match.handler({ req, res, params: match.params, query: url.searchParams, mount, caller });
    } catch (error) {
      const http = toHttpError(error);
      if (http.status >= 500) this.app.logger?.error({ event: 'dashboard_error', err: error, path: url.pathname }, 'dashboard request failed');
      if (res.headersSent) return void res.end();
      sendError(res, http);
    }
  }

  /**
   * Where the dashboard is mounted and the URL below it. Express strips its mount path and keeps it in
   * `req.baseUrl`; other servers pass the full URL, which must start with `basePath`.
   */
  private locate(req: IncomingMessage): { mount: string; url: URL } | undefined {
    const raw = req.url ?? '/';
    const express = req as IncomingMessage & { baseUrl?: unknown; originalUrl?: unknown };
    let mount = '';
    let rest = raw;
    if (typeof express.baseUrl === 'string' && typeof express.originalUrl === 'string') {
      mount = express.baseUrl;
    } else if (this.options.basePath) {
      const base = this.options.basePath;
      if (raw !== base && !raw.startsWith(`${base}/`) && !raw.startsWith(`${base}?`)) return undefined;
      mount = base;
      rest = raw.slice(base.length);
    }
    if (!rest.startsWith('/')) rest = `/${rest}`;
    let url: URL;
    try {
      url = new URL(rest, 'http://dashboard.invalid');
    } catch {
      return undefined;
    }
    return { mount: mount.replace(/\/+$/, ''), url };
  }
}
