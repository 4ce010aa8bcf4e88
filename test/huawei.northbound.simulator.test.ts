/** `npm run simulate:huawei-platform` as a user runs it (the compiled command line). */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HuaweiNorthboundClient } from '../src/ingest/huawei/northbound/client';
import { CreateOperationAnswerSchema, NORTHBOUND_PATHS } from '../src/ingest/huawei/northbound/protocol';
import { capturingLogger, eventually } from './support/huawei-platform';

const SCRIPT = join(__dirname, '..', 'dist', 'src', 'simulators', 'huawei-platform.js');

function run(args: string[]) {
  const child = spawn(process.execPath, [SCRIPT, ...args], { env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

test('--help prints the usage (exit 0); a bad flag says what is wrong (exit 2)', async () => {
  const help = run(['--help']);
  expect(await help.exited).toBe(0);
  expect(help.out()).toContain('Usage: npm run simulate:huawei-platform');
  const bad = run(['--drop', '2']);
  expect(await bad.exited).toBe(2);
  expect(bad.err()).toContain('--drop must be between 0 and 1');
});

test('writes its CA and client certificate, serves the API over mutual TLS with them, and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ota-sim-platform-'));
  const proc = run(['--port', '0', '--out', dir, '--secret', 'cli-secret']);
  try {
    await eventually(() => /Simulated Huawei platform on (https:\/\/\S+)/.test(proc.out()), 30_000, 'the platform to listen');
    const url = /Simulated Huawei platform on (https:\/\/\S+)/.exec(proc.out())![1];
    for (const file of ['ca.pem', 'client.pem', 'client-key.pem']) expect(existsSync(join(dir, file))).toBe(true);
    const client = new HuaweiNorthboundClient({
      baseUrl: url,
      appId: 'demo-app',
      secret: 'cli-secret',
      tls: { ca: readFileSync(join(dir, 'ca.pem')), cert: readFileSync(join(dir, 'client.pem')), key: readFileSync(join(dir, 'client-key.pem')) },
      logger: capturingLogger().logger,
    });
    const answer = await client.call({ method: 'POST', path: NORTHBOUND_PATHS.softwareUpgrade, json: { fileId: 'f', targets: { devices: ['d'] } }, schema: CreateOperationAnswerSchema, idempotent: false });
    expect(answer.operationId).toMatch(/^[0-9a-f]+$/);
    client.close();
    expect(proc.out()).toContain('← POST /iocm/app/sec/v1.1.0/login 200');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  } finally {
    proc.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
