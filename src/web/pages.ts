import type { MutationAccess } from './auth.js';
import { escapeHtml } from './html.js';

export interface PageInfo {
  readonly path: string;
  readonly id: string;
  readonly title: string;
}

export const PAGES: readonly PageInfo[] = [
  { path: '/', id: 'overview', title: 'Overview' },
  { path: '/jobs', id: 'jobs', title: 'Jobs' },
  { path: '/dedup', id: 'dedup', title: 'Deduplication' },
  { path: '/databases', id: 'databases', title: 'Databases' },
  { path: '/flags', id: 'flags', title: 'Feature flags' },
  { path: '/cron', id: 'cron', title: 'Cron' },
];

const ACCESS_NOTES: Record<MutationAccess, string> = {
  'read-only': 'Read-only: changes are disabled.',
  token: 'Changes need the dashboard token.',
  authorize: 'Changes are authorized by the host application.',
  loopback: 'No token configured: listening on loopback only, and only this machine can make changes.',
  disabled: 'Changes are disabled: no token or authorize function is configured.',
};

export interface PageState {
  mount: string;
  csrfToken: string;
  access: MutationAccess;
  signedIn: boolean;
}

/**
 * The page shell: navigation, status line and an empty <main> that the page's script fills from the JSON
 * API with DOM text nodes. Nothing from a job, flag or host is ever written here, and what is (the mount
 * path, the CSRF token) is escaped; the CSP allows no inline script.
 */
export function renderPage(page: PageInfo, state: PageState): string {
  const nav = PAGES.map((p) => `<a href="${p.path === '/' ? './' : p.path.slice(1)}"${p.id === page.id ? ' aria-current="page"' : ''}>${escapeHtml(p.title)}</a>`).join('');
  const signIn = state.access === 'token' ? `<button type="button" id="sign-in" class="link">${state.signedIn ? 'Sign out' : 'Sign in'}</button>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · lagless</title>
<base href="${escapeHtml(state.mount)}/">
<meta name="csrf-token" content="${escapeHtml(state.csrfToken)}">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/uplot.css">
<link rel="stylesheet" href="assets/dashboard.css">
<script src="assets/uplot.js" defer></script>
<script type="module" src="assets/${page.id}.js"></script>
</head>
<body data-page="${page.id}" data-access="${state.access}" data-signed-in="${state.signedIn}">
<header class="top">
<a class="brand" href="./">lagless</a>
<nav>${nav}</nav>
<div class="status"><span id="live" class="live" title="live updates"></span>${signIn}</div>
</header>
<p class="access-note" id="access-note">${escapeHtml(ACCESS_NOTES[state.access])}${state.access === 'token' ? (state.signedIn ? ' You are signed in.' : ' Sign in to make changes.') : ''}</p>
<main id="main"><h1>${escapeHtml(page.title)}</h1><noscript><p>This dashboard needs JavaScript; the JSON API under api/ works without it.</p></noscript></main>
</body>
</html>
`;
}
