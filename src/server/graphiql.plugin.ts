import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GraphQLSchema } from 'graphql';
import { schemaSdl } from '../graphql/print-schema';
import { sameHostSockets, serveBuiltFiles, type BuiltFile } from './serve-built-file';

/** Options of {@link graphiqlPlugin}. */
export interface GraphiQLPluginOptions {
  /** The folder `scripts/build-dashboard.mjs` writes: `dist/graphiql` (index.html, app.js, app.css). */
  readonly root: string;
  /** Served as `/schema.graphql` (SDL), unless introspection is off. */
  readonly schema: GraphQLSchema;
  /** GRAPHQL_INTROSPECTION: when false, neither the schema file nor the IDE is served. */
  readonly introspection: boolean;
}

/** The only files served under `/graphiql/`; anything else is a 404 and never reaches the file system. */
const FILES: Readonly<Record<string, BuiltFile>> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  'app.js.LEGAL.txt': { file: 'app.js.LEGAL.txt', type: 'text/plain; charset=utf-8' },
};

/** What a request gets when `npm run build` has not produced the IDE. */
export const GRAPHIQL_NOT_BUILT = 'graphiql not built: run npm run build';

/**
 * Scripts from this origin only. GraphiQL's editors set inline styles, and its
 * stylesheet carries its fonts and icons as data: URLs.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const sockets = sameHostSockets(host);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

async function graphiql(app: FastifyInstance, options: GraphiQLPluginOptions): Promise<void> {
  const { root, introspection } = options;
  const sdl = schemaSdl(options.schema);

  serveBuiltFiles(app, { prefix: '/graphiql', root, files: FILES, notBuilt: GRAPHIQL_NOT_BUILT, contentSecurityPolicy, enabled: introspection });
  app.get('/schema.graphql', async (_request, reply) => {
    if (!introspection) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply.type('text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'no-cache').send(sdl);
  });
  app.get('/favicon.ico', async (_request, reply) =>
    reply.type('image/x-icon').header('Cache-Control', 'public, max-age=86400').send(FAVICON),
  );
}

/**
 * A 16×16 icon (a blue rounded square with a white arrow pointing up: an
 * upgrade), built once as a 32-bit BMP inside an ICO container, so that no
 * binary file needs to be shipped next to the code.
 */
function buildFavicon(): Buffer {
  const size = 16;
  const pixels = Buffer.alloc(size * size * 4);
  const arrow = (x: number, y: number): boolean => {
    // y from the top: a head (rows 3..7) and a shaft (rows 8..12).
    if (y >= 3 && y <= 7) return Math.abs(x - 7.5) <= y - 2.5;
    return y >= 8 && y <= 12 && x >= 6 && x <= 9;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const corner = (x < 2 || x > 13) && (y < 2 || y > 13) && Math.hypot(x < 2 ? 2 - x : x - 13, y < 2 ? 2 - y : y - 13) > 2;
      // BMP rows go bottom-up; pixels are BGRA.
      const offset = ((size - 1 - y) * size + x) * 4;
      if (corner) continue;
      const [r, g, b] = arrow(x, y) ? [255, 255, 255] : [29, 91, 191];
      pixels.set([b, g, r, 255], offset);
    }
  }
  const mask = Buffer.alloc(size * 4); // 1 bit per pixel, rows padded to 32 bits; alpha decides
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // colour and mask stacked
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  header.writeUInt32LE(pixels.length + mask.length, 20);
  const image = Buffer.concat([header, pixels, mask]);
  const icon = Buffer.alloc(6 + 16);
  icon.writeUInt16LE(1, 2); // type: icon
  icon.writeUInt16LE(1, 4); // one image
  icon.writeUInt8(size, 6);
  icon.writeUInt8(size, 7);
  icon.writeUInt16LE(1, 10); // planes
  icon.writeUInt16LE(32, 12); // bits per pixel
  icon.writeUInt32LE(image.length, 14);
  icon.writeUInt32LE(22, 18);
  return Buffer.concat([icon, image]);
}

const FAVICON = buildFavicon();

/**
 * The offline GraphQL IDE and what developer tools ask for:
 * - `GET /graphiql`: GraphiQL built by `scripts/build-dashboard.mjs` from its
 *   npm package (no CDN), with subscriptions over graphql-ws and a token
 *   field. The page holds no data and needs no token; the operations it
 *   sends are authenticated like any other.
 * - `GET /schema.graphql`: the schema in SDL.
 * - `GET /favicon.ico`: a small icon, so no page logs a 404 for it.
 * With GRAPHQL_INTROSPECTION=false the IDE and the schema file answer 404.
 */
export const graphiqlPlugin = fp<GraphiQLPluginOptions>(graphiql, { name: 'ota-gateway-graphiql', fastify: '5.x' });
