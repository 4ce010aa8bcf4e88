/**
 * A fresh `npm start` has no API token. Then the API works for whoever sits
 * at this machine (loopback, the server named `localhost` or by address) and
 * for nobody else: not another host, not a page on another origin (with or
 * without the browser's help), not a domain re-bound to 127.0.0.1.
 * API_ALLOW_ANONYMOUS=true opens it, loudly.
 */
import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { CREATE_UPGRADE, firmwareUpgradeInput, logCapture, rawSocket, runOnce, wsClient } from './security.api.support';
import { startTestGateway, type TestGateway } from './support/gateway';

/** An address of this machine that is not loopback, if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const describeExternal = externalAddress ? describe : describe.skip;

/** A raw HTTP POST, with full control of Host and Origin. */
function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const mutation = (sn: string) => ({ query: CREATE_UPGRADE, variables: { input: firmwareUpgradeInput(sn) } });

describe('no token configured', () => {
  const captured = logCapture();
  let gateway: TestGateway;
  let port: number;
  beforeAll(async () => {
    gateway = await startTestGateway({ HOST: '0.0.0.0', LOG_LEVEL: 'info' }, { logger: captured.logger });
    port = Number(new URL(gateway.url).port);
  });
  afterAll(() => gateway.stop());

  it('says so at start', () => {
    expect(captured.text()).toMatch(/no API token configured.*open to clients on this machine only/);
  });

  it('this machine queries, mutates (createdBy "anonymous") and subscribes, over 127.0.0.1 and localhost', async () => {
    const created = await post(`http://127.0.0.1:${port}/graphql`, mutation('ANONDOCK0001'));
    expect(created).toMatchObject({ status: 200, body: { data: { createFirmwareUpgrade: { createdBy: 'anonymous' } } } });
    expect((await post(`http://localhost:${port}/graphql`, { query: '{ upgradeTasks { totalCount } }' })).status).toBe(200);
    const { client, outcome } = wsClient(gateway);
    expect(await outcome).toEqual({ connected: true });
    await client.dispose();
  });

  it("a page on another origin cannot mutate, over HTTP or over a WebSocket (which browsers open anywhere)", async () => {
    const before = await gateway.gql('{ upgradeTasks { totalCount } }');
    const http = await post(`http://127.0.0.1:${port}/graphql`, mutation('EVILDOCK0001'), { origin: 'https://evil.example' });
    expect(http).toMatchObject({ status: 403, body: { errors: [{ extensions: { code: 'FORBIDDEN' } }] } });
    expect(await rawSocket(`ws://127.0.0.1:${port}/graphql`, { origin: 'https://evil.example' })).toEqual({ kind: 'refused', status: 403 });
    expect(await gateway.gql('{ upgradeTasks { totalCount } }')).toEqual(before);
  });

  it('a domain re-bound to 127.0.0.1 (DNS rebinding: same "origin" as the page) is refused', async () => {
    const host = `rebind.evil.example:${port}`;
    const http = await post(`http://127.0.0.1:${port}/graphql`, mutation('REBINDDOCK01'), { host, origin: `http://${host}` });
    expect(http).toMatchObject({ status: 403, body: { errors: [{ message: expect.stringMatching(/only this machine/) }] } });
    const ws = await rawSocket(`ws://127.0.0.1:${port}/graphql`, {
      headers: { host },
      origin: `http://${host}`,
      onOpen: (socket) => socket.send(JSON.stringify({ type: 'connection_init' })),
    });
    expect(ws).toMatchObject({ kind: 'closed', code: 4403, reason: expect.stringMatching(/only this machine/) });
  });

  describeExternal('from another host', () => {
    it(`is refused: 403 over HTTP, 4403 with a reason on the WebSocket`, async () => {
      const http = await post(`http://${externalAddress}:${port}/graphql`, { query: '{ upgradeTasks { totalCount } }' });
      expect(http).toMatchObject({ status: 403, body: { errors: [{ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/API_TOKENS/) }] } });
      const ws = await rawSocket(`ws://${externalAddress}:${port}/graphql`, { onOpen: (s) => s.send(JSON.stringify({ type: 'connection_init' })) });
      expect(ws).toMatchObject({ kind: 'closed', code: 4403, reason: expect.stringMatching(/API_TOKENS/) });
    });
  });
});

describeExternal('API_ALLOW_ANONYMOUS=true', () => {
  const captured = logCapture();
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ HOST: '0.0.0.0', API_ALLOW_ANONYMOUS: 'true', LOG_LEVEL: 'info' }, { logger: captured.logger });
  });
  afterAll(() => gateway.stop());

  it('opens the API to other hosts, with a warning at start; foreign browser origins stay out', async () => {
    expect(captured.parsed().some((l) => l.level === 40 && /API_ALLOW_ANONYMOUS=true.*EVERY client/.test(l.msg))).toBe(true);
    const port = new URL(gateway.url).port;
    expect((await post(`http://${externalAddress}:${port}/graphql`, { query: '{ upgradeTasks { totalCount } }' })).status).toBe(200);
    const { client, outcome } = wsClient(gateway);
    await outcome;
    expect((await runOnce(client, '{ upgradeTasks { totalCount } }')).errors).toEqual([]);
    await client.dispose();
    expect((await post(`http://${externalAddress}:${port}/graphql`, mutation('EVILDOCK0002'), { origin: 'https://evil.example' })).status).toBe(403);
  });
});
