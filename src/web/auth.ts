import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { cookie, Csrf, safeEqual, sessionId, checkSameOrigin } from './csrf.js';
import { HttpError, parseCookies } from './http.js';
import type { ResolvedDashboardOptions } from './options.js';

const AUTH_COOKIE = 'lagless_auth';
const SESSION_MAX_AGE_S = 12 * 3600;

/** How mutations are allowed, shown in the page header so an operator knows what protects the dashboard. */
export type MutationAccess = 'read-only' | 'token' | 'authorize' | 'loopback' | 'disabled';

export interface Caller {
  via: 'bearer' | 'session' | 'authorize' | 'loopback';
  /** Who made the change, when the authorize function named them (overrides what the browser sends). */
  user?: string;
}

/**
 * Who may change things. Reads are open to whoever reaches the dashboard; every POST and DELETE passes
 * `mutation()` first: read-only refuses, then cross-site requests are refused, then one of
 * - `Authorization: Bearer <token>` (scripts; a browser never attaches it on its own, so no CSRF token needed),
 * - a browser session signed in with the token, plus the session's CSRF token,
 * - the authorize function's yes, plus the CSRF token (it usually trusts a cookie the browser sends anywhere),
 * - a loopback peer when allowed and nothing else is configured, plus the CSRF token.
 */
export class DashboardAuth {
  readonly csrf: Csrf;

  constructor(private readonly options: ResolvedDashboardOptions) {
    this.csrf = new Csrf(options.token);
  }

  get access(): MutationAccess {
    if (this.options.readOnly) return 'read-only';
    if (this.options.token) return 'token';
    if (this.options.authorize) return 'authorize';
    return this.options.allowLoopbackMutations ? 'loopback' : 'disabled';
  }

  signedIn(req: IncomingMessage): boolean {
    const sid = sessionId(req);
    const sent = parseCookies(req.headers.cookie).get(AUTH_COOKIE);
    return Boolean(this.options.token && sid && sent && safeEqual(sent, this.sessionProof(sid)));
  }

  async mutation(req: IncomingMessage): Promise<Caller> {
    if (this.options.readOnly) throw new HttpError(403, 'READ_ONLY', 'The dashboard is read-only (started with --read-only / readOnly: true); use the lagless CLI to change things.');
    checkSameOrigin(req);
    const token = this.options.token;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) {
      if (token && safeEqual(bearer, token)) return { via: 'bearer' };
      throw new HttpError(401, 'UNAUTHORIZED', token ? 'Wrong dashboard token in the Authorization header.' : 'This dashboard has no token configured; bearer tokens are not accepted.');
    }
    if (this.access === 'disabled') throw new HttpError(403, 'MUTATIONS_DISABLED', 'Changes are disabled: configure a token (--token or LAGLESS_DASHBOARD_TOKEN) or an authorize function.');
    this.csrf.verify(req);
    if (token) {
      if (this.signedIn(req)) return { via: 'session' };
      throw new HttpError(401, 'UNAUTHORIZED', 'Sign in with the dashboard token first (the "Sign in" button), or send Authorization: Bearer <token>.');
    }
    if (this.options.authorize) {
      const answer = await this.options.authorize(req);
      if (answer === false) throw new HttpError(403, 'FORBIDDEN', 'Not allowed: the dashboard\'s authorize function refused this request.');
      return typeof answer === 'string' && answer !== '' ? { via: 'authorize', user: answer } : { via: 'authorize' };
    }
    if (isLoopback(req.socket.remoteAddress)) return { via: 'loopback' };
    throw new HttpError(403, 'FORBIDDEN', 'Without a dashboard token only this machine (loopback) can make changes.');
  }

  /** Checks the token and answers the cookie that marks this browser session as signed in. */
  signIn(req: IncomingMessage, sent: unknown, mount: string): string {
    const token = this.options.token;
    if (!token) throw new HttpError(400, 'NO_TOKEN', 'This dashboard has no token to sign in with.');
    if (typeof sent !== 'string' || !safeEqual(sent, token)) throw new HttpError(401, 'UNAUTHORIZED', 'Wrong dashboard token.');
    const sid = sessionId(req);
    if (!sid) throw new HttpError(403, 'CSRF', 'No dashboard session: reload the page and sign in again.');
    return cookie(AUTH_COOKIE, this.sessionProof(sid), mount, SESSION_MAX_AGE_S);
  }

  signOut(mount: string): string {
    return cookie(AUTH_COOKIE, '', mount, 0);
  }

  private sessionProof(sid: string): string {
    return createHmac('sha256', `lagless-auth:${this.options.token}`).update(sid).digest('base64url');
  }
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(address);
}

/** A host name (bind address or Host header name) that can only mean this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The Host header names this machine. A loopback-only dashboard (no token) must check it: otherwise a web page on
 * another name that is re-pointed to 127.0.0.1 (DNS rebinding) passes the same-origin and loopback-peer checks.
 */
export function requestNamesLoopback(req: IncomingMessage): boolean {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  return isLoopbackHost(host);
}
