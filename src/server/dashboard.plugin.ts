import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Options of {@link dashboardPlugin}. */
export interface DashboardPluginOptions {
  /** The folder `scripts/build-dashboard.mjs` writes: `dist/dashboard` (index.html, app.js, app.js.map, styles.css). */
  readonly root: string;
}

/**
 * The only files served, by the name that follows `/dashboard/` in the URL.
 * Nothing from the request ever reaches the file system: a name that is not a
 * key here is a 404, so `..%2F` and friends have nowhere to go.
 */
const FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'app.js.map': { file: 'app.js.map', type: 'application/json; charset=utf-8' },
  'styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' },
};

/** What a request gets when `npm run build` has not produced the page. */
export const DASHBOARD_NOT_BUILT = 'dashboard not built: run npm run build';

/** A Host header that is safe to echo into a CSP header (no spaces, `;` or quotes). */
const SAFE_HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/**
 * The WebSocket URLs of the request's own host for a CSP `connect-src`
 * (` ws://host wss://host`), or nothing when the Host header is not safe to echo.
 */
export function sameHostSockets(host: string | undefined): string {
  return host !== undefined && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
}

/**
 * Everything from this origin, nothing else: no inline script or style, no CDN.
 * `connect-src` names the WebSocket URLs of the same host explicitly because
 * older browsers (Safari before 15.4) do not let 'self' cover ws:/wss:.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const sockets = sameHostSockets(host);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${sockets}`,
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

async function dashboard(app: FastifyInstance, options: DashboardPluginOptions): Promise<void> {
  if (typeof options.root !== 'string' || options.root === '') throw new Error('dashboardPlugin needs a root folder');
  const { root } = options;

  const send = async (name: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const entry = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
    if (!entry) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    let body: Buffer;
    try {
      // Read per request (the files are small): a build made while the gateway
      // runs is picked up without a restart, and a missing build is a 503.
      body = await readFile(join(root, entry.file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return reply.code(503).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send(DASHBOARD_NOT_BUILT);
    }
    return reply
      .type(entry.type)
      .headers({
        'Content-Security-Policy': contentSecurityPolicy(request.host),
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        // File names carry no hash, so the browser revalidates every time.
        'Cache-Control': 'no-cache',
      })
      .send(body);
  };

  // `/dashboard/` is the parametric route with an empty name. Registering it as
  // its own route would clash with `/dashboard` when the gateway sets
  // ignoreTrailingSlash.
  app.get('/dashboard', (request, reply) => send('', request, reply));
  app.get<{ Params: { file: string } }>('/dashboard/:file', (request, reply) => send(request.params.file, request, reply));
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
