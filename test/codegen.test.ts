import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..');

/*
 * The codegen CLI runs in its own process (its plugins are ES modules, which
 * Jest's CommonJS runtime cannot load), writing to a temporary folder; the
 * result must equal what is checked in.
 */
test('the typed documents in examples/generated are fresh (run `npm run codegen` after changing the API or the operations)', () => {
  const config = parse(readFileSync(join(root, 'codegen.yml'), 'utf8')) as { generates: Record<string, unknown> };
  const dir = mkdtempSync(join(tmpdir(), 'ota-codegen-'));
  try {
    const targets = Object.keys(config.generates);
    const generates = Object.fromEntries(targets.map((target, i) => [join(dir, `${i}.ts`), config.generates[target]]));
    const configFile = join(dir, 'codegen.json');
    writeFileSync(configFile, JSON.stringify({ ...config, generates }));
    execFileSync(process.execPath, [join(root, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js'), '--config', configFile, '--silent'], {
      cwd: root,
      stdio: 'pipe',
    });
    targets.forEach((target, i) => {
      expect(readFileSync(join(dir, `${i}.ts`), 'utf8')).toBe(readFileSync(join(root, target), 'utf8'));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

/*
 * What a frontend compiles: the generated documents and the example client,
 * under `tsc --strict` with the DOM lib and bundler resolution
 * (examples/tsconfig.json), as a Vite or Next project would.
 */
test('the generated documents and the example client compile under tsc --strict', () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '--strict', '--noEmit', '-p', join(root, 'examples', 'tsconfig.json')], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    output = String((error as { stdout?: Buffer }).stdout ?? error);
  }
  expect(output).toBe('');
}, 120_000);
