/**
 * The Huawei callback as an attacker would try it: bodies over the limit,
 * bytes that are not UTF-8, the token spelled so that a naive log filter
 * misses it, bodies that never finish arriving, and shadow `properties`
 * built to be expensive to store and serve.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { HUAWEI_CALLBACK_PATH } from '../src/ingest/huawei/webhook.plugin';
import { logCapture } from './security.api.support';
import { startTestGateway, type TestGateway } from './support/gateway';

const TABLES = ['inbound_message', 'progress_event', 'shadow_event', 'upgrade_sub_task', 'upgrade_task'] as const;
async function counts(gateway: TestGateway): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of TABLES) result[table] = Number(((await gateway.dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: number }[])[0].n);
  return result;
}

/** A firmware state push with its own ids, padded to `size` bytes when given. */
function push(tag: string, size?: number): string {
  const body = JSON.stringify({
    notifyType: 'fwUpgradeStateChangeNotify',
    deviceId: `dev-${tag}`,
    appId: 'app-1',
    operationId: `op-${tag}`,
    subOperationId: `sub-${tag}`,
    step: '1',
    stepDesc: 'downloading',
    padding: '',
  });
  return size === undefined ? body : body.replace('"padding":""', `"padding":"${'x'.repeat(size - Buffer.byteLength(body))}"`);
}

function shadow(tag: string, properties: unknown): string {
  return JSON.stringify({ notifyType: 'deviceDesiredPropertiesModifyStatusChanged', deviceId: `dev-${tag}`, serviceId: 'Device', properties, status: 'DELIVERED' });
}

const send = async (url: string, body: string | Buffer) => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text() };
};

describe('body limit, encoding, properties', () => {
  let gateway: TestGateway;
  let url: string;
  beforeAll(async () => {
    gateway = await startTestGateway();
    url = gateway.url + HUAWEI_CALLBACK_PATH;
  });
  afterAll(() => gateway.stop());

  it('64 KiB by default: exactly that is recorded, a byte more is 413 and nothing is written', async () => {
    expect((await send(url, push('at-limit', 64 * 1024))).status).toBe(200);
    const before = await counts(gateway);
    expect((await send(url, push('over-limit', 64 * 1024 + 1))).status).toBe(413);
    expect(await counts(gateway)).toEqual(before);
  });

  it.each([
    ['a stray 0xFF byte', Buffer.from([0xff])],
    ['an overlong "/" (0xC0 0xAF)', Buffer.from([0xc0, 0xaf])],
    ['an encoded surrogate (0xED 0xA0 0x80)', Buffer.from([0xed, 0xa0, 0x80])],
    ['a truncated sequence (0xE2 0x82)', Buffer.from([0xe2, 0x82])],
  ])('%s inside a string: 400 naming the body, nothing written', async (_name, bad) => {
    const before = await counts(gateway);
    const [head, tail] = push('bad-utf8').split('"downloading"');
    const body = Buffer.concat([Buffer.from(`${head}"down`), bad, Buffer.from(`loading"${tail}`)]);
    const response = await send(url, body);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toMatchObject({ error: 'BAD_REQUEST', message: expect.stringMatching(/UTF-8/) });
    expect(await counts(gateway)).toEqual(before);
  });

  it('valid multi-byte UTF-8 is fine', async () => {
    expect((await send(url, push('utf8-ok').replace('downloading', 'downloading 下载中 ✓'))).status).toBe(200);
  });

  it.each([
    ['1001 keys', Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i])), /at most 1000 keys and array items/],
    ['1001 items in nested arrays', { a: Array.from({ length: 600 }, () => 1), b: { c: Array.from({ length: 400 }, () => 1) } }, /at most 1000 keys/],
    ['over 16 KiB as JSON', { blob: 'x'.repeat(17 * 1024) }, /at most 16384 bytes as JSON/],
  ])('shadow properties with %s: 400 naming properties, nothing written (refused, not truncated)', async (_name, properties, reason) => {
    const before = await counts(gateway);
    const response = await send(url, shadow('big-props', properties));
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).fields).toEqual([{ field: 'properties', message: expect.stringMatching(reason) }]);
    expect(await counts(gateway)).toEqual(before);
  });

  it('shadow properties at the bounds are recorded whole', async () => {
    const properties = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`Key ${i}`, i]));
    expect((await send(url, shadow('props-ok', properties))).status).toBe(200);
    const { body } = await gateway.gql<any>(`{ shadowEvents(deviceId: "dev-props-ok") { edges { node { properties } } } }`);
    expect(Object.keys(body.data.shadowEvents.edges[0].node.properties)).toHaveLength(1000);
  });
});

describe('WEBHOOK_BODY_LIMIT', () => {
  it('raises the limit, in bytes', async () => {
    const gateway = await startTestGateway({ WEBHOOK_BODY_LIMIT: String(256 * 1024) });
    try {
      const url = gateway.url + HUAWEI_CALLBACK_PATH;
      expect((await send(url, push('raised', 200 * 1024))).status).toBe(200);
      expect((await send(url, push('raised-over', 256 * 1024 + 1))).status).toBe(413);
    } finally {
      await gateway.stop();
    }
  });
});

describe('the token never reaches a log line, however it is spelled', () => {
  const token = `hw-${randomBytes(18).toString('hex')}`;
  // No exact secrets handed to the logger here (production hands WEBHOOK_TOKEN to it as well):
  // this shows the query masking on its own, for values the exact match could not know.
  const captured = logCapture([]);
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ WEBHOOK_TOKEN: token, LOG_LEVEL: 'info' }, { logger: captured.logger });
  });
  afterAll(() => gateway.stop());

  const encoded = [...token].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
  it.each([
    ['token=', `token=${token}`, 200],
    ['TOKEN= (upper case)', `TOKEN=${token}`, 401],
    ['ToKeN=', `ToKeN=${token}`, 401],
    ['%74oken= (encoded key)', `%74oken=${token}`, 200],
    ['%54OKEN= (encoded upper case)', `%54OKEN=${token}`, 401],
    ['token[]=', `token[]=${token}`, 401],
    ['token[0]=', `token[0]=${token}`, 401],
    ['%74oken%5B%5D= (encoded brackets)', `%74oken%5B%5D=${token}`, 401],
    ['a fully percent-encoded value', `token=${encoded}`, 200],
    ['after another parameter', `a=1&token=${token}`, 200],
    ['twice', `token=${token}&token=${token}`, 401],
    ['with a fragment-like tail', `token=${token}#x`, 200],
  ])('%s', async (_name, query, status) => {
    const from = captured.lines.length;
    const response = await send(`${gateway.url}${HUAWEI_CALLBACK_PATH}?${query}`, push(`mask-${from}`));
    expect(response.status).toBe(status);
    // Also on a 404 (another path), which logs the URL too.
    expect((await send(`${gateway.url}${HUAWEI_CALLBACK_PATH}/cmd?${query}`, '{}')).status).toBe(404);
    const logged = captured.lines.slice(from).join('');
    expect(logged).toContain(HUAWEI_CALLBACK_PATH); // not vacuous: the requests were logged
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(encoded);
    expect(logged).not.toContain(token.slice(3, 20));
  });
});

describe('HTTP_REQUEST_TIMEOUT_MS: a body that never finishes arriving', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ HTTP_REQUEST_TIMEOUT_MS: '1000' });
  });
  afterAll(() => gateway.stop());

  /** Sends `head` and waits for the server to answer or hang up; resolves with what it said. */
  const stall = (head: string) =>
    new Promise<string>((resolve, reject) => {
      const { port } = new URL(gateway.url);
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(head));
      let answer = '';
      // Far beyond the timeout and its check interval: the server must have hung up by then.
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('the server kept a stalled request open'));
      }, 15_000);
      const done = () => {
        clearTimeout(timer);
        resolve(answer);
      };
      socket.on('data', (d) => (answer += d.toString('utf8')));
      socket.on('close', done);
      socket.on('error', done);
    });

  it('a stalled body gets 408 and the connection is closed; nothing is written', async () => {
    const before = await counts(gateway);
    const body = push('stalled');
    const answer = await stall(
      `POST ${HUAWEI_CALLBACK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(await counts(gateway)).toEqual(before);
  });

  it('stalled headers (slowloris) are cut off too, and other clients are served meanwhile', async () => {
    const stalled = stall(`POST ${HUAWEI_CALLBACK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
    expect((await send(gateway.url + HUAWEI_CALLBACK_PATH, push('served'))).status).toBe(200);
    expect(await stalled).toMatch(/^(HTTP\/1\.1 408 |$)/);
  });
});
