import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { DASHBOARD_NOT_BUILT, dashboardPlugin } from '../src/server/dashboard.plugin';

/*
 * Real HTTP on a free port rather than app.inject(): inject loads
 * light-my-request, which requires the ESM-only `cookie` 2, and Jest cannot
 * require ESM on this Node version. node:http also sends paths untouched
 * (`..`, `%2F`), where fetch would normalise them first.
 */

interface Served {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Server {
  app: FastifyInstance;
  get(path: string, headers?: Record<string, string>): Promise<Served>;
}

/** A bare Fastify with only the dashboard plugin, serving `root`, listening on a free port. */
async function serve(root: string, options: FastifyServerOptions = {}): Promise<Server> {
  const app = Fastify({ logger: false, ...options });
  await app.register(dashboardPlugin, { root });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, get: (path, headers = {}) => get(port, path, headers) };
}

/** GET `path` exactly as written. */
function get(port: number, path: string, headers: Record<string, string>): Promise<Served> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const SECRET = 'not-for-the-browser';

describe('dashboardPlugin', () => {
  let built: string;
  let empty: string;

  beforeAll(() => {
    built = mkdtempSync(join(tmpdir(), 'dashboard-built-'));
    empty = mkdtempSync(join(tmpdir(), 'dashboard-empty-'));
    writeFileSync(join(built, 'index.html'), '<!doctype html><title>fake</title>');
    writeFileSync(join(built, 'app.js'), 'console.log("fake")\n//# sourceMappingURL=app.js.map');
    writeFileSync(join(built, 'app.js.map'), '{"version":3}');
    writeFileSync(join(built, 'styles.css'), 'body{}');
    // Next to the allowed files but not one of them.
    writeFileSync(join(built, 'secret.txt'), SECRET);
  });

  afterAll(() => {
    rmSync(built, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it.each([
    ['/dashboard', 'text/html; charset=utf-8', '<!doctype html><title>fake</title>'],
    ['/dashboard/', 'text/html; charset=utf-8', '<!doctype html><title>fake</title>'],
    ['/dashboard/app.js', 'text/javascript; charset=utf-8', 'console.log("fake")\n//# sourceMappingURL=app.js.map'],
    ['/dashboard/app.js.map', 'application/json; charset=utf-8', '{"version":3}'],
    ['/dashboard/styles.css', 'text/css; charset=utf-8', 'body{}'],
  ])('serves %s as %s', async (url, type, body) => {
    const server = await serve(built);
    try {
      const response = await server.get(url, { host: 'gw.example:4000' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      expect(response.body).toBe(body);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await server.app.close();
    }
  });

  it('sends a CSP that allows only this origin, its WebSockets included', async () => {
    const server = await serve(built);
    try {
      const response = await server.get('/dashboard', { host: 'gw.example:4000' });
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("connect-src 'self' ws://gw.example:4000 wss://gw.example:4000");
      expect(csp).not.toContain('unsafe-inline');
    } finally {
      await server.app.close();
    }
  });

  it('does not echo a Host header that could inject CSP directives', async () => {
    const server = await serve(built);
    try {
      const response = await server.get('/dashboard', { host: 'evil; script-src *' });
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("connect-src 'self';");
      expect(csp).not.toContain('evil');
    } finally {
      await server.app.close();
    }
  });

  it('answers 503 with a clear text when the build output is missing', async () => {
    const server = await serve(empty);
    try {
      for (const url of ['/dashboard', '/dashboard/', '/dashboard/app.js', '/dashboard/styles.css', '/dashboard/app.js.map']) {
        const response = await server.get(url);
        expect(response.statusCode).toBe(503);
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        expect(response.body).toBe(DASHBOARD_NOT_BUILT);
      }
    } finally {
      await server.app.close();
    }
  });

  it('serves nothing outside the fixed list, whatever the path', async () => {
    const server = await serve(built);
    try {
      for (const url of [
        '/dashboard/secret.txt',
        '/dashboard/..%2Fpackage.json',
        '/dashboard/..%2f..%2f..%2fetc%2fpasswd',
        '/dashboard/%2e%2e%2fsecret.txt',
        '/dashboard/../package.json',
        '/dashboard/app.js/../../secret.txt',
        '/dashboard/constructor',
        '/dashboard/__proto__',
        '/dashboard/sub/app.js',
      ]) {
        const response = await server.get(url);
        expect({ url, status: response.statusCode }).toEqual({ url, status: 404 });
        expect(response.body).not.toContain(SECRET);
      }
    } finally {
      await server.app.close();
    }
  });

  it('registers alongside ignoreTrailingSlash', async () => {
    const server = await serve(built, { routerOptions: { ignoreTrailingSlash: true } });
    try {
      expect((await server.get('/dashboard/')).statusCode).toBe(200);
      expect((await server.get('/dashboard/styles.css/')).statusCode).toBe(200);
    } finally {
      await server.app.close();
    }
  });

  it('refuses to start without a root', async () => {
    const app = Fastify({ logger: false });
    await expect(app.register(dashboardPlugin, { root: '' })).rejects.toThrow(/root/);
    await app.close();
  });
});
