import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError, parseCookies } from './http.js';

export const SESSION_COOKIE = 'lagless_sid';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Synchronizer tokens without server state: every browser gets a random session id in an HttpOnly,
 * SameSite=Strict cookie, and its CSRF token is an HMAC of that id. Pages carry the token in a meta tag;
 * another site can make the browser send the cookie but can neither read the page nor compute the token.
 * Keyed with the dashboard token when there is one, so several dashboard processes accept each other's pages.
 */
export class Csrf {
  private readonly key: Buffer;

  constructor(secret: string | undefined) {
    this.key = secret ? Buffer.from(`lagless-csrf:${secret}`) : randomBytes(32);
  }

  /** The request's session id, or a new one with the Set-Cookie header that stores it. */
  session(req: IncomingMessage, mount: string): { sid: string; setCookie?: string } {
    const sid = sessionId(req);
    if (sid) return { sid };
    const fresh = randomBytes(18).toString('base64url');
    return { sid: fresh, setCookie: cookie(SESSION_COOKIE, fresh, mount) };
  }

  token(sid: string): string {
    return createHmac('sha256', this.key).update(sid).digest('base64url');
  }

  /** Throws 403 unless the request carries the token of its session. */
  verify(req: IncomingMessage): void {
    const sid = sessionId(req);
    const sent = req.headers[CSRF_HEADER];
    if (!sid || typeof sent !== 'string' || !safeEqual(sent, this.token(sid))) {
      throw new HttpError(403, 'CSRF', `Missing or wrong ${CSRF_HEADER} header: reload the page, or send Authorization: Bearer <token> from scripts.`);
    }
  }
}

/**
 * Browsers name the page a request came from; refuse any other site before looking at credentials. Requests
 * without these headers (curl, scripts) pass here and still need a token or a CSRF token.
 */
export function checkSameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, 'CROSS_SITE', `Refusing a ${site} request: dashboard changes can only be made from the dashboard itself.`);
  }
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new HttpError(403, 'CROSS_SITE', 'Refusing a request with a malformed Origin header.');
    }
    if (host !== req.headers.host) throw new HttpError(403, 'CROSS_SITE', `Refusing a request from origin ${origin}: dashboard changes can only be made from the dashboard itself.`);
  } else if (origin === 'null') {
    throw new HttpError(403, 'CROSS_SITE', 'Refusing a request from an opaque origin.');
  }
}

export function sessionId(req: IncomingMessage): string | undefined {
  const sid = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  return sid && /^[A-Za-z0-9_-]{16,64}$/.test(sid) ? sid : undefined;
}

export function cookie(name: string, value: string, mount: string, maxAgeS?: number): string {
  return `${name}=${value}; Path=${mount || '/'}; HttpOnly; SameSite=Strict${maxAgeS === undefined ? '' : `; Max-Age=${maxAgeS}`}`;
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
