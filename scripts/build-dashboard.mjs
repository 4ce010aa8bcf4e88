#!/usr/bin/env node
/**
 * Builds the dashboard page (GET /dashboard) into dist/dashboard:
 *   app.js + app.js.map  dashboard/src/main.ts bundled with esbuild, graphql-ws included
 *   index.html, styles.css copied as they are
 * and the GraphQL IDE (GET /graphiql) into dist/graphiql:
 *   app.js, app.css      dashboard/graphiql/main.tsx: GraphiQL, React and graphql-ws from npm, bundled
 *   index.html           copied
 * Everything the pages need is in those folders: no CDN, they work offline.
 * Exits non-zero on any failure. Run from anywhere: paths are from this file.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'dashboard');
const out = join(root, 'dist', 'dashboard');
const ideSource = join(source, 'graphiql');
const ideOut = join(root, 'dist', 'graphiql');

try {
  // Start clean so a file removed from the page does not linger in dist.
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: [join(source, 'src', 'main.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife', // a classic script: works with a plain <script defer>
    target: 'es2020',
    sourcemap: true,
    minify: false, // a reference to read, not a product to shave
    tsconfig: join(source, 'tsconfig.json'),
    legalComments: 'eof',
    logLevel: 'warning',
  });
  await Promise.all(['index.html', 'styles.css'].map((file) => copyFile(join(source, file), join(out, file))));
  console.log(`dashboard built into ${out}`);

  await rm(ideOut, { recursive: true, force: true });
  await mkdir(ideOut, { recursive: true });
  await build({
    entryPoints: { app: join(ideSource, 'main.tsx') },
    outdir: ideOut, // app.js and, from the imported CSS, app.css
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    jsx: 'automatic',
    // React's production build: the development one is large and warns in the console.
    define: { 'process.env.NODE_ENV': '"production"' },
    minify: true, // GraphiQL and React are products, not references to read
    tsconfig: join(ideSource, 'tsconfig.json'),
    legalComments: 'linked',
    logLevel: 'warning',
  });
  await copyFile(join(ideSource, 'index.html'), join(ideOut, 'index.html'));
  console.log(`graphiql built into ${ideOut}`);
} catch (error) {
  // esbuild has already printed its own diagnostics; say which step failed.
  console.error(`dashboard build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
