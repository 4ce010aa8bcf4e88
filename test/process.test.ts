import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/gateway';
import { freePort } from './support/mosquitto';

const SERVER = join(__dirname, '..', 'dist', 'src', 'server.js');

function run(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [SERVER], { cwd, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ota-process-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('with no settings but free ports it serves on embedded defaults, then stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const mqttPort = await freePort();
  const gateway = run({ PORT: String(port), MQTT_PORT: String(mqttPort) }, dir);
  try {
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true, 15_000, 'healthz');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const typename = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await typename.json()).toEqual({ data: { __typename: 'Query' } });
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  } finally {
    gateway.child.kill('SIGKILL');
  }
});

// Without MQTT_PASSWORD_FILE the embedded broker listens on loopback only (README "Security").
test.each([
  ['PORT', '0.0.0.0', (taken: number, free: number) => ({ PORT: String(taken), MQTT_PORT: String(free) })],
  ['MQTT_PORT', '127.0.0.1', (taken: number, free: number) => ({ PORT: String(free), MQTT_PORT: String(taken) })],
])('a taken %s is one clear line on stderr and exit code 1', async (variable, host, envFor) => {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', () => resolve()));
  const taken = (holder.address() as AddressInfo).port;
  try {
    const gateway = run(envFor(taken, await freePort()), dir);
    expect(await gateway.exited).toBe(1);
    const { stderr } = gateway.output();
    expect(stderr.trim().split('\n')).toEqual([`ota-gateway: ${variable}=${taken} is already in use on ${host}: stop what holds it or set ${variable} to a free port`]);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});

test('a bad setting is named on stderr, exit code 1, no stack trace', async () => {
  const gateway = run({ PORT: 'eighty', DATABASE_URL: 'mysql://x' }, dir);
  expect(await gateway.exited).toBe(1);
  const { stderr } = gateway.output();
  expect(stderr).toContain('PORT must be a port number (got "eighty")');
  expect(stderr).toContain('DATABASE_URL must start with sqlite: or postgres://');
  expect(stderr).not.toMatch(/\n\s+at /);
});

