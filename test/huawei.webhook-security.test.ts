/**
 * The Huawei callback's protections, over real sockets: the `?token=` shared
 * secret (WEBHOOK_TOKEN) and what reaches the logs, and HTTPS with a
 * certificate generated for the test (TLS_CERT_FILE / TLS_KEY_FILE).
 *
 * Reference: protocols.md §1.4 (legacy pushes carry no signature: the callback
 * URL is all the platform can be given, hence the token in the query).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { HUAWEI_CALLBACK_PATH } from '../src/ingest/huawei/webhook.plugin';
import { collect, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';

const FIXTURES = join(__dirname, 'fixtures', 'huawei');
const fixtureText = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const TABLES = ['inbound_message', 'progress_event', 'shadow_event', 'upgrade_sub_task', 'upgrade_task'] as const;

async function counts(gateway: TestGateway): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of TABLES) {
    const [row] = (await gateway.dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: number }[];
    result[table] = Number(row.n);
  }
  return result;
}

/** A body for one test: the downloading example with its own ids. */
function push(tag: string, overrides: Record<string, unknown> = {}): string {
  const body = JSON.parse(fixtureText('fw-state-downloading.json')) as Record<string, unknown>;
  return JSON.stringify({ ...body, deviceId: `dev-${tag}`, operationId: `op-${tag}`, subOperationId: `sub-${tag}`, ...overrides });
}

/**
 * Everything the gateway logs, as text: the logger handed to it in
 * `GatewayOptions.logger`, which Fastify's request logs go through too.
 * `attach` guards that: should Fastify ever log elsewhere, it captures that as well.
 */
function logCapture() {
  const lines: string[] = [];
  /** Lines written to the logger given in GatewayOptions only. */
  const gatewayLines: string[] = [];
  const sink = { write: (line: string) => void (lines.push(line), gatewayLines.push(line)) };
  return {
    lines,
    gatewayLines,
    /** For GatewayOptions.logger: everything it writes is captured in both lists. */
    logger: pino({ level: 'info' }, sink),
    /** Points Fastify's own logger (see above) at the capture as well. */
    attach(gateway: TestGateway) {
      const log = gateway.app.log as unknown as Record<symbol, unknown>;
      if (log[pino.symbols.streamSym] === sink) return;
      log[pino.symbols.streamSym] = { write: (line: string) => void lines.push(line) };
    },
    text: () => lines.join(''),
  };
}

describe('WEBHOOK_TOKEN', () => {
  const token = `hw-${randomBytes(18).toString('base64url')}`;
  const captured = logCapture();
  let gateway: TestGateway;
  let url: string;

  beforeAll(async () => {
    gateway = await startTestGateway({ WEBHOOK_TOKEN: token, LOG_LEVEL: 'info' }, { logger: captured.logger });
    captured.attach(gateway);
    url = gateway.url + HUAWEI_CALLBACK_PATH;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const postTo = async (target: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: response.status, text: await response.text() };
  };

  test.each([
    ['no token', ''],
    ['an empty token', '?token='],
    ['a wrong token', '?token=wrong'],
    ['the token in the wrong case', `?token=${token.toUpperCase()}`],
    ['the token with a suffix', `?token=${token}x`],
    ['a prefix of the token', `?token=${token.slice(0, -1)}`],
    ['the token under another name', `?Token=${token}`],
  ])('%s: 401 and nothing written', async (_name, query) => {
    const before = await counts(gateway);
    const response = await postTo(url + query, push('denied'));
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toMatchObject({ error: 'UNAUTHORIZED' });
    expect(response.text).not.toContain(token);
    expect(await counts(gateway)).toEqual(before);
  });

  test('the token in a header instead of the URL is not accepted', async () => {
    const response = await postTo(url, push('header'), { authorization: `Bearer ${token}`, 'x-token': token });
    expect(response.status).toBe(401);
  });

  test('the right token: 200 and recorded', async () => {
    const response = await postTo(`${url}?token=${encodeURIComponent(token)}`, push('allowed'));
    expect(response).toEqual({ status: 200, text: 'ok' });
    const [row] = (await gateway.dataSource.query(`SELECT outcome FROM inbound_message WHERE payload LIKE ?`, ['%op-allowed%'])) as {
      outcome: string;
    }[];
    expect(row.outcome).toBe('RECORDED');
  });

  test('authentication comes before validation: a bad body with a wrong token is 401, with the right one 400', async () => {
    expect((await postTo(`${url}?token=wrong`, 'not json')).status).toBe(401);
    expect((await postTo(`${url}?token=${token}`, 'not json')).status).toBe(400);
  });

  test('the token never reaches the logs, whatever the outcome', async () => {
    const withToken = `${url}?token=${token}`;
    expect((await postTo(`${url}?token=wrong&other=1`, push('log-401'))).status).toBe(401);
    expect((await postTo(`${url}?other=1&token=${token}`, push('log-200'))).status).toBe(200);
    expect((await postTo(withToken, '{"notifyType":"fwUpgradeResultNotify"}')).status).toBe(400);
    expect((await postTo(withToken, push('log-413', { padding: 'x'.repeat(1024 * 1024) }))).status).toBe(413);
    await gateway.dataSource.query(
      `CREATE TRIGGER refuse_ledger BEFORE INSERT ON inbound_message BEGIN SELECT RAISE(ABORT, 'simulated outage'); END`,
    );
    try {
      expect((await postTo(withToken, push('log-503', { marker: 'BODY-MARKER-503' }))).status).toBe(503);
    } finally {
      await gateway.dataSource.query('DROP TRIGGER refuse_ledger');
    }
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).not.toContain(token);

    const logs = captured.text();
    // Not vacuous: the requests were logged, with the token masked, and the outage too.
    expect(logs).toContain(`${HUAWEI_CALLBACK_PATH}?token=***`);
    expect(logs).toContain(`${HUAWEI_CALLBACK_PATH}?other=1&token=***`);
    expect(logs).toContain('push not stored');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(encodeURIComponent(token));
  });

  test('a storage failure is logged with its cause but without the push body', async () => {
    const start = captured.lines.length;
    await gateway.dataSource.query(
      `CREATE TRIGGER refuse_ledger BEFORE INSERT ON inbound_message BEGIN SELECT RAISE(ABORT, 'simulated outage'); END`,
    );
    try {
      const big = push('log-503-body', { marker: 'BODY-MARKER', padding: 'p'.repeat(48 * 1024) });
      expect((await postTo(`${url}?token=${token}`, big)).status).toBe(503);
    } finally {
      await gateway.dataSource.query('DROP TRIGGER refuse_ledger');
    }
    const [line] = captured.lines.slice(start).filter((l) => l.includes('push not stored'));
    expect(JSON.parse(line)).toMatchObject({ level: 50, notifyType: 'fwUpgradeStateChangeNotify', err: { message: expect.stringContaining('simulated outage') } });
    // TypeORM's error carries the INSERT's parameters, i.e. the whole body (up to 1 MiB per retry during an outage).
    // (Booleans, so that a failure does not print 256 KiB.)
    expect({ hasBody: line.includes('BODY-MARKER'), short: line.length < 8 * 1024 }).toEqual({ hasBody: false, short: true });
  });

  test('a token that would need encoding in the callback URL is refused at start, naming WEBHOOK_TOKEN', async () => {
    // `+` in an unencoded query reads as a space: such a token would make every push a 401.
    await expect(startTestGateway({ WEBHOOK_TOKEN: 'a+b/c=d&e%f' })).rejects.toThrow(/WEBHOOK_TOKEN must be 8 to 256 URL-safe characters/);
  });

  // Huawei's SDK posts NB command status to `/v1.0.0/messageReceiver/cmd` (protocols.md §1.1): a 404 there must not leak the token.
  test('an unknown path or method on the callback URL does not log the token', async () => {
    const start = captured.lines.length;
    const cmd = await postTo(`${url}/cmd?token=${token}`, push('cmd'));
    const get = await fetch(`${url}?token=${token}`);
    expect([cmd.status, get.status]).toEqual([404, 404]);
    expect(captured.lines.slice(start).join('')).not.toContain(token);
  });

  test('request logs go to the logger the gateway was given', async () => {
    const start = captured.gatewayLines.length;
    expect((await postTo(`${url}?token=${token}`, push('own-logger'))).status).toBe(200);
    expect(captured.gatewayLines.slice(start).join('')).toContain(`${HUAWEI_CALLBACK_PATH}?token=***`);
  });
});

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const describeTls = openssl.status === 0 ? describe : describe.skip;

describeTls('HTTPS (TLS_CERT_FILE / TLS_KEY_FILE)', () => {
  let dir: string;
  let cert: Buffer;
  let gateway: TestGateway;

  /** A request that trusts exactly the test's certificate: verification stays on. */
  function request(path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
    return new Promise<{ status: number; text: string; protocol: string | null }>((resolve, reject) => {
      const req = httpsRequest(
        gateway.url + path,
        { method: init.method ?? 'GET', ca: cert, headers: init.headers },
        (res) => {
          const protocol = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? null;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              protocol,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ota-gw-tls-'));
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const made = spawnSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    cert = readFileSync(certFile);
    gateway = await startTestGateway({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
  });
  afterAll(async () => {
    await gateway?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the gateway serves https and a push over TLS is recorded and readable through GraphQL', async () => {
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await request(HUAWEI_CALLBACK_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: push('tls'),
    });
    expect(response).toMatchObject({ status: 200, text: 'ok' });
    expect(response.protocol).toMatch(/^TLSv1\.[23]$/);

    const graphql = await request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ upgradeTasks(filter: { deviceId: "dev-tls" }) { edges { node { externalId status subTasks { vendorStatus } } } } }`,
      }),
    });
    expect(graphql.status).toBe(200);
    expect(JSON.parse(graphql.text).data.upgradeTasks.edges).toEqual([
      { node: { externalId: 'op-tls', status: 'IN_PROGRESS', subTasks: [{ vendorStatus: 'downloading' }] } },
    ]);
  });

  test('a graphql-ws subscriber over wss:// receives the push', async () => {
    class TrustingWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { ca: cert });
      }
    }
    const client = createClient({ url: `${gateway.url.replace(/^https/, 'wss')}/graphql`, webSocketImpl: TrustingWebSocket, retryAttempts: 0 });
    try {
      const sub = collect<{ upgradeProgress: any }>(client, `subscription { upgradeProgress(deviceId: "dev-wss") { event { vendorStatus } } }`);
      await subscriptionsRunning(gateway, 1);
      expect((await request(HUAWEI_CALLBACK_PATH, { method: 'POST', body: push('wss') })).status).toBe(200);
      const [message] = await sub.until(1);
      expect(message.upgradeProgress.event.vendorStatus).toBe('downloading');
    } finally {
      await client.dispose();
    }
  });

  test('a client that does not trust the certificate is refused, and plain http gets nothing recorded', async () => {
    const before = await counts(gateway);
    // Node's fetch verifies against the system CAs only.
    await expect(fetch(gateway.url + HUAWEI_CALLBACK_PATH, { method: 'POST', body: push('untrusted') })).rejects.toThrow();
    const plain = await fetch(gateway.url.replace(/^https/, 'http') + HUAWEI_CALLBACK_PATH, { method: 'POST', body: push('plain') }).then(
      (r) => r.status,
      () => 'connection failed',
    );
    expect(plain).not.toBe(200);
    expect(await counts(gateway)).toEqual(before);
  });
});
