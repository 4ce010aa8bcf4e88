import { HuaweiNorthboundClient, NorthboundError } from '../src/ingest/huawei/northbound/client';
import { NORTHBOUND_PATHS, OperationAnswerSchema, CreateOperationAnswerSchema } from '../src/ingest/huawei/northbound/protocol';
import type { SimulatedHuaweiPlatform } from '../src/simulators/huawei-platform-server';
import { capturingLogger, expectNoSecrets, startPlatform, testPki } from './support/huawei-platform';

let platform: SimulatedHuaweiPlatform;
let client: HuaweiNorthboundClient;
let log: ReturnType<typeof capturingLogger>;

function clientFor(p: SimulatedHuaweiPlatform, overrides: Partial<ConstructorParameters<typeof HuaweiNorthboundClient>[0]> = {}) {
  const pki = testPki();
  return new HuaweiNorthboundClient({
    baseUrl: p.url,
    appId: p.appId,
    secret: p.secret,
    tls: { cert: pki.clientCert, key: pki.clientKey, ca: pki.caCert },
    logger: log.logger,
    backoffMs: 10,
    timeoutMs: 3000,
    ...overrides,
  });
}

const createTask = (c: HuaweiNorthboundClient, deviceId = 'dev-1') =>
  c.call({ method: 'POST', path: NORTHBOUND_PATHS.firmwareUpgrade, json: { fileId: 'file-1', targets: { devices: [deviceId] } }, schema: CreateOperationAnswerSchema, idempotent: false });

beforeEach(async () => {
  log = capturingLogger();
});

afterEach(async () => {
  client?.close();
  await platform?.stop();
  expectNoSecrets(log.lines, [platform.secret, ...platform.issuedTokens]);
});

test('logs in over mutual TLS (form-encoded) and sends app_key and the bearer token on every call', async () => {
  platform = await startPlatform();
  client = clientFor(platform);
  const { operationId } = await createTask(client);
  const operation = await client.call({ method: 'GET', path: NORTHBOUND_PATHS.operation(operationId), schema: OperationAnswerSchema });
  expect(operation).toMatchObject({ operationId, operateType: 'firmware_upgrade' });
  expect(platform.stats).toMatchObject({ logins: 1, unauthorized: 0 });
  expect(client.logins).toBe(1);
});

test('without the client certificate the platform refuses the connection', async () => {
  platform = await startPlatform();
  client = clientFor(platform, { tls: { ca: testPki().caCert }, maxAttempts: 1 });
  await expect(createTask(client)).rejects.toBeInstanceOf(NorthboundError);
  expect(platform.stats.logins).toBe(0);
});

test('concurrent calls share one login: never two at once', async () => {
  platform = await startPlatform({ loginDelayMs: 200 });
  client = clientFor(platform);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => createTask(client, `dev-${i}`)));
  expect(new Set(results.map((r) => r.operationId)).size).toBe(20);
  expect(platform.stats.logins).toBe(1);
  expect(platform.stats.maxConcurrentLogins).toBe(1);
  expect(platform.stats.unauthorized).toBe(0);
});

test('refreshes the token before it expires, and never meets a 401 for it', async () => {
  platform = await startPlatform({ tokenLifetimeSeconds: 2 });
  client = clientFor(platform);
  await createTask(client);
  // Four fifths of the lifetime later the token is refreshed (it would expire at 2 s).
  await new Promise((r) => setTimeout(r, 1700));
  await createTask(client);
  expect(platform.stats).toMatchObject({ logins: 1, refreshes: 1, unauthorized: 0 });
});

test('a 401 logs in again once and retries; concurrent 401s cause one login', async () => {
  platform = await startPlatform({ loginDelayMs: 100 });
  client = clientFor(platform);
  await createTask(client);
  platform.revokeToken(); // as a login elsewhere would
  await Promise.all(Array.from({ length: 10 }, (_, i) => createTask(client, `dev-${i}`)));
  expect(platform.stats.logins).toBe(2);
  expect(platform.stats.maxConcurrentLogins).toBe(1);
  expect(platform.stats.unauthorized).toBe(10);
});

test('retries 5xx with backoff (bounded), then reports the platform error', async () => {
  platform = await startPlatform();
  client = clientFor(platform, { maxAttempts: 3 });
  await createTask(client);
  platform.failNextCalls(2, 503);
  await expect(createTask(client)).resolves.toHaveProperty('operationId');
  platform.failNextCalls(3, 500);
  // A 500 to a task creation may have created it: not retried.
  await expect(createTask(client)).rejects.toMatchObject({ status: 500, platformCode: '50252' });
  platform.failNextCalls(3, 502);
  await expect(client.call({ method: 'GET', path: NORTHBOUND_PATHS.operation('x'), schema: OperationAnswerSchema })).rejects.toMatchObject({ status: 502 });
  expect(platform.stats.injectedErrors).toBe(2 + 1 + 3);
});

test('a wrong secret is an error with the platform code, and the secret is not in it', async () => {
  platform = await startPlatform();
  client = clientFor(platform, { secret: 'not-the-secret-value' });
  const error = (await createTask(client).catch((e) => e)) as NorthboundError;
  expect(error).toMatchObject({ status: 401, platformCode: '100208' });
  expect(error.message).not.toContain('not-the-secret-value');
});

test('a platform that does not answer in time is a time-out, retried, then an error', async () => {
  platform = await startPlatform({ loginDelayMs: 1000 });
  client = clientFor(platform, { timeoutMs: 200, maxAttempts: 2 });
  await expect(createTask(client)).rejects.toThrow(/no answer within 200 ms/);
});
