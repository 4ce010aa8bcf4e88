import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** One file a page serves: its name in the build folder and its Content-Type. */
export interface BuiltFile {
  readonly file: string;
  readonly type: string;
}

/** Options of {@link serveBuiltFiles}. */
export interface BuiltFilesOptions {
  /** The page's path: `GET <prefix>` and `<prefix>/` answer the file named '', `<prefix>/<name>` the file named `<name>`. */
  readonly prefix: string;
  /** The build output folder (`dist/dashboard`, `dist/graphiql`). */
  readonly root: string;
  /**
   * The only files served, by the name that follows `<prefix>/` in the URL.
   * Nothing from the request ever reaches the file system: a name that is not
   * a key here is a 404, so `..%2F` and friends have nowhere to go.
   */
  readonly files: Readonly<Record<string, BuiltFile>>;
  /** The 503 text when the build output is missing (`… not built: run npm run build`). */
  readonly notBuilt: string;
  /** The page's Content-Security-Policy for a request to this Host. */
  contentSecurityPolicy(host: string | undefined): string;
  /** When false every path answers 404 (GraphiQL with GRAPHQL_INTROSPECTION=false). @default true */
  readonly enabled?: boolean;
}

/** A Host header that is safe to echo into a CSP header (no spaces, `;` or quotes). */
const SAFE_HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/**
 * The WebSocket URLs of the request's own host for a CSP `connect-src`
 * (` ws://host wss://host`), or nothing when the Host header is not safe to
 * echo. Named explicitly because older browsers (Safari before 15.4) do not
 * let 'self' cover ws:/wss:.
 */
export function sameHostSockets(host: string | undefined): string {
  return host !== undefined && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
}

/**
 * Serves a page built by `scripts/build-dashboard.mjs` from a fixed list of
 * files, each with the page's CSP, `nosniff`, no referrer and `no-cache`
 * (the names carry no hash, so the browser revalidates). Files are read per
 * request (they are small): a build made while the gateway runs is picked up
 * without a restart, and a missing build is a 503 with `notBuilt`.
 */
export function serveBuiltFiles(app: FastifyInstance, options: BuiltFilesOptions): void {
  const { prefix, root, files, notBuilt, enabled = true } = options;
  if (typeof root !== 'string' || root === '') throw new Error(`${prefix} needs a root folder`);

  const send = async (name: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const entry = Object.hasOwn(files, name) ? files[name] : undefined;
    if (!entry || !enabled) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    let body: Buffer;
    try {
      body = await readFile(join(root, entry.file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return reply.code(503).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send(notBuilt);
    }
    return reply
      .type(entry.type)
      .headers({
        'Content-Security-Policy': options.contentSecurityPolicy(request.host),
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      })
      .send(body);
  };

  // `<prefix>/` is the parametric route with an empty name. Registering it as
  // its own route would clash with `<prefix>` when the gateway sets
  // ignoreTrailingSlash.
  app.get(prefix, (request, reply) => send('', request, reply));
  app.get<{ Params: { file: string } }>(`${prefix}/:file`, (request, reply) => send(request.params.file, request, reply));
}
