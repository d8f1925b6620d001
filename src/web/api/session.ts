import { checkSameOrigin, sessionId } from '../csrf.js';
import { HttpError, readJsonBody, sendJson } from '../http.js';
import type { Router } from '../router.js';
import type { ApiDeps } from './deps.js';

/**
 * `GET /api/session`: the CSRF token for this browser and how changes are allowed.
 * `POST /api/session { token }` signs this browser in with the dashboard token; `DELETE` signs it out.
 * Both need the CSRF token (they change the session) but no sign-in.
 */
export function sessionRoutes(router: Router, deps: ApiDeps): void {
  router.get('/api/session', ({ req, res, mount }) => {
    const { sid, setCookie } = deps.auth.csrf.session(req, mount);
    sendJson(res, 200, { csrfToken: deps.auth.csrf.token(sid), access: deps.auth.access, signedIn: !setCookie && deps.auth.signedIn(req) }, setCookie ? { 'set-cookie': setCookie } : {});
  });

  router.post('/api/session', async ({ req, res, mount }) => {
    checkSameOrigin(req);
    deps.auth.csrf.verify(req);
    const body = (await readJsonBody(req)) as { token?: unknown } | null;
    const setCookie = deps.auth.signIn(req, body?.token, mount);
    deps.audit('dashboard_sign_in', { session: sessionId(req)?.slice(0, 6) });
    sendJson(res, 200, { signedIn: true }, { 'set-cookie': setCookie });
  }, { auth: false });

  router.delete('/api/session', ({ req, res, mount }) => {
    checkSameOrigin(req);
    deps.auth.csrf.verify(req);
    if (!sessionId(req)) throw new HttpError(400, 'NO_SESSION', 'No dashboard session to sign out of.');
    sendJson(res, 200, { signedIn: false }, { 'set-cookie': deps.auth.signOut(mount) });
  }, { auth: false });
}
