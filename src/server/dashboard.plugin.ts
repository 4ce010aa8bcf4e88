import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sameHostSockets, serveBuiltFiles, type BuiltFile } from './serve-built-file';

/** Options of {@link dashboardPlugin}. */
export interface DashboardPluginOptions {
  /** The folder `scripts/build-dashboard.mjs` writes: `dist/dashboard` (index.html, app.js, app.js.map, styles.css). */
  readonly root: string;
}

/** The files served, by the name that follows `/dashboard/` in the URL. */
const FILES: Readonly<Record<string, BuiltFile>> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'app.js.map': { file: 'app.js.map', type: 'application/json; charset=utf-8' },
  'styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' },
};

/** What a request gets when `npm run build` has not produced the page. */
export const DASHBOARD_NOT_BUILT = 'dashboard not built: run npm run build';

/** Everything from this origin, nothing else: no inline script or style, no CDN. */
function contentSecurityPolicy(host: string | undefined): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${sameHostSockets(host)}`,
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

async function dashboard(app: FastifyInstance, options: DashboardPluginOptions): Promise<void> {
  serveBuiltFiles(app, { prefix: '/dashboard', root: options.root, files: FILES, notBuilt: DASHBOARD_NOT_BUILT, contentSecurityPolicy });
}

/**
 * Serves the dashboard page built by `scripts/build-dashboard.mjs`:
 * `GET /dashboard` (and `/dashboard/`) answer index.html, and
 * `/dashboard/app.js`, `/dashboard/app.js.map`, `/dashboard/styles.css` the
 * bundle and its styles. Only that fixed list of files is served; anything
 * else under `/dashboard/` is a 404. When the build output is missing the
 * answer is 503 with {@link DASHBOARD_NOT_BUILT}.
 *
 * Every response carries a Content-Security-Policy that allows scripts, styles
 * and connections (HTTP and WebSocket) to this host only.
 *
 * The routes need no API token (a browser cannot add a header to a page
 * navigation); the page itself asks for the token and sends it to /graphql.
 *
 * @example
 * await app.register(dashboardPlugin, { root: join(__dirname, '../../dashboard') }); // dist/src/server → dist/dashboard
 */
export const dashboardPlugin = fp<DashboardPluginOptions>(dashboard, { name: 'ota-gateway-dashboard', fastify: '5.x' });
