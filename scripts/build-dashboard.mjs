#!/usr/bin/env node
/**
 * Builds the dashboard page (GET /dashboard) into dist/dashboard:
 *   app.js + app.js.map  dashboard/src/main.ts bundled with esbuild, graphql-ws included
 *   index.html, styles.css copied as they are
 * Everything the page needs is in that folder: no CDN, it works offline.
 * Exits non-zero on any failure. Run from anywhere: paths are from this file.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'dashboard');
const out = join(root, 'dist', 'dashboard');

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
} catch (error) {
  // esbuild has already printed its own diagnostics; say which step failed.
  console.error(`dashboard build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
