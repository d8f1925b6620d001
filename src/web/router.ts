import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from './auth.js';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** `:name` segments of the path, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Where the dashboard is mounted (`''` at the root, `/lagless` under a prefix), for links and cookie paths. */
  readonly mount: string;
  /** Who is making a mutating request (set after authentication; undefined for reads). */
  readonly caller: Caller | undefined;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  segments: string[];
  mutates: boolean;
  handler: RouteHandler;
}

export interface RouteMatch {
  handler: RouteHandler;
  params: Record<string, string>;
  /** Changes something: the dashboard authenticates it and checks CSRF before the handler runs. */
  mutates: boolean;
}

/** Method + path patterns with `:param` segments; nothing else (no regexes, no wildcards). */
export class Router {
  private readonly routes: Route[] = [];

  get(path: string, handler: RouteHandler): this {
    return this.add('GET', path, handler);
  }

  /** `auth: false` for the sign-in routes, which check what they need themselves. */
  post(path: string, handler: RouteHandler, options: { auth?: false } = {}): this {
    return this.add('POST', path, handler, options.auth !== false);
  }

  delete(path: string, handler: RouteHandler, options: { auth?: false } = {}): this {
    return this.add('DELETE', path, handler, options.auth !== false);
  }

  private add(method: string, path: string, handler: RouteHandler, mutates = false): this {
    this.routes.push({ method, segments: path.split('/').filter(Boolean), mutates, handler });
    return this;
  }

  /** A route for this method and path; `allowed` lists the methods the path has when only the method is wrong. */
  match(method: string, path: string): RouteMatch | { allowed: string[] } | undefined {
    const parts = path.split('/').filter(Boolean);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { handler: route.handler, params, mutates: route.mutates };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of pattern.entries()) {
    const part = parts[i]!;
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(part);
      } catch {
        return undefined; // malformed %-escape: no route has it
      }
    } else if (segment !== part) return undefined;
  }
  return params;
}
