/**
 * The GraphQL API over HTTP, tried as an attacker would, with named tokens
 * and roles (API_TOKENS) and the legacy API_TOKEN: every operation
 * authenticated (persisted queries included), viewers cannot mutate, what an
 * operator creates names its token, every mutation leaves one audit line
 * without the token, and browsers on other origins are kept out.
 */
import { createHash } from 'node:crypto';
import { loadConfig } from '../src/config';
import { CREATE_UPGRADE, firmwareUpgradeInput, logCapture } from './security.api.support';
import { startTestGateway, type TestGateway } from './support/gateway';

const OPS = 'ops-token-0123456789abcdef';
const WALL = 'wall-token-0123456789abcdef';
const LEGACY = 'legacy-token-0123456789abcdef';
const captured = logCapture([OPS, WALL, LEGACY]);
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway(
    { API_TOKENS: `ops:operator:${OPS}, wall:viewer:${WALL}`, API_TOKEN: LEGACY, GRAPHQL_ALLOWED_ORIGINS: 'https://ops.example.com', LOG_LEVEL: 'info' },
    { logger: captured.logger },
  );
});
afterAll(() => gateway.stop());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const get = (query: string, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}/graphql?${query}`, { headers: { 'apollo-require-preflight': 'true', ...headers } });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const taskCount = async () => Number(((await gateway.dataSource.query('SELECT COUNT(*) AS n FROM upgrade_task')) as { n: number }[])[0].n);

describe('persisted queries (APQ) are off, and never a way around the token', () => {
  const query = '{ upgradeTasks { totalCount } }';
  const extensions = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256(query) } }));

  it('GET /graphql with only extensions.persistedQuery and no token: 401', async () => {
    // Register it first, as the attacker's accomplice with a token would have.
    await gateway.gql(query, {}, bearer(OPS));
    const response = await get(`extensions=${extensions}`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('with a token: 400 PERSISTED_QUERY_NOT_SUPPORTED (the client sends the full query next)', async () => {
    const response = await get(`extensions=${extensions}`, bearer(OPS));
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('a query with a hash that does not match it: 400 with a code, not an internal error', async () => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(OPS) },
      body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ other }') } } }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('a GET with the query in the URL needs the token too', async () => {
    expect((await get(`query=${encodeURIComponent(query)}`)).status).toBe(401);
    expect((await get(`query=${encodeURIComponent(query)}`, bearer(WALL))).status).toBe(200);
  });

  it('the bare landing page GET stays open (the page sends the token with its operations)', async () => {
    expect((await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } })).status).toBe(200);
  });
});

describe('tokens: the usual spellings, nothing else', () => {
  it.each([
    ['Bearer', `Bearer ${OPS}`],
    ['bearer in lower case', `bearer ${OPS}`],
    ['BEARER', `BEARER ${OPS}`],
    ['the bare token', OPS],
    ['the legacy API_TOKEN', `Bearer ${LEGACY}`],
  ])('%s: answered', async (_name, authorization) => {
    const { status, body } = await gateway.gql('{ __typename }', {}, { authorization });
    expect(status).toBe(200);
    expect(body.data).toEqual({ __typename: 'Query' });
  });

  it.each([
    ['none', {}],
    ['a wrong one', bearer('x'.repeat(26))],
    ['a prefix of a real one', bearer(OPS.slice(0, -1))],
    ['two tokens', { authorization: `Bearer ${OPS} ${WALL}` }],
    ['Basic', { authorization: `Basic ${Buffer.from(`ops:${OPS}`).toString('base64')}` }],
  ])('%s: 401 UNAUTHENTICATED with WWW-Authenticate', async (_name, headers) => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(headers as Record<string, string>) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('roles', () => {
  it('a viewer queries', async () => {
    const { status, body } = await gateway.gql('{ upgradeTasks { totalCount } }', {}, bearer(WALL));
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  it("a viewer's mutation is FORBIDDEN (403) and creates nothing", async () => {
    const before = await taskCount();
    const { status, body } = await gateway.gql(CREATE_UPGRADE, { input: firmwareUpgradeInput('VIEWERDOCK01') }, bearer(WALL));
    expect(status).toBe(403);
    expect(body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(body.errors?.[0].message).toMatch(/"wall".*viewer/);
    expect(await taskCount()).toBe(before);
  });

  it("an operator's mutation runs, and the task records the token's name (createdBy)", async () => {
    const { status, body } = await gateway.gql<any>(CREATE_UPGRADE, { input: firmwareUpgradeInput('OPSDOCK00001') }, bearer(OPS));
    expect(status).toBe(200);
    expect(body.data.createFirmwareUpgrade).toMatchObject({ createdBy: 'ops', status: 'PENDING' });
    const read = await gateway.gql<any>(`{ upgradeTask(id: "${body.data.createFirmwareUpgrade.id}") { createdBy } }`, {}, bearer(WALL));
    expect(read.body.data.upgradeTask.createdBy).toBe('ops');
  });

  it('API_TOKEN is an operator named "default"', async () => {
    const { body } = await gateway.gql<any>(CREATE_UPGRADE, { input: firmwareUpgradeInput('LEGACYDOCK01') }, bearer(LEGACY));
    expect(body.data.createFirmwareUpgrade.createdBy).toBe('default');
  });

  it('every mutation leaves one audit line: name, role, operation, outcome; never a token', async () => {
    const audits = captured.parsed().filter((line) => line.audit);
    expect(audits).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ audit: { principal: 'wall', role: 'viewer', operation: 'StartUpgrade', transport: 'http', outcome: 'forbidden' } }),
        expect.objectContaining({ audit: { principal: 'ops', role: 'operator', operation: 'StartUpgrade', transport: 'http', outcome: 'allowed' } }),
        expect.objectContaining({ audit: { principal: 'default', role: 'operator', operation: 'StartUpgrade', transport: 'http', outcome: 'allowed' } }),
      ]),
    );
    // Queries are not audited: one line per mutation.
    expect(audits).toHaveLength(3);
    for (const token of [OPS, WALL, LEGACY]) expect(captured.text()).not.toContain(token);
  });
});

describe('Origin', () => {
  const post = (origin: string | undefined, token = OPS) =>
    fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token), ...(origin ? { origin } : {}) },
      body: JSON.stringify({ query: CREATE_UPGRADE, variables: { input: firmwareUpgradeInput('ORIGINDOCK01') } }),
    });

  it('a request from a foreign origin is refused with 403, even with a valid token, and creates nothing', async () => {
    const before = await taskCount();
    const response = await post('https://evil.example');
    expect(response.status).toBe(403);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await post('null')).status).toBe(403);
    expect(await taskCount()).toBe(before);
  });

  it('a listed origin gets CORS headers (preflight and answer) so that its pages can read the API; others get none', async () => {
    const preflight = await fetch(`${gateway.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://ops.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const answer = await post('https://ops.example.com');
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
    const foreign = await fetch(`${gateway.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    // A viewer's answer to a listed origin is still refused by role, with the CORS header so the page can read why.
    const forbidden = await post('https://ops.example.com', WALL);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
  });

  it('the gateway\'s own origin, a listed one (any case, default port) and no Origin at all are let in', async () => {
    for (const origin of [gateway.url, 'https://ops.example.com', 'HTTPS://OPS.example.com:443', undefined]) {
      expect({ origin, status: (await post(origin)).status }).toEqual({ origin, status: 200 });
    }
  });
});

describe('configuration', () => {
  it.each([
    [{ API_TOKEN: 'short' }, /API_TOKEN: the token is shorter than 16 characters/],
    [{ API_TOKENS: 'ops:operator:short' }, /API_TOKENS entry 1 \(ops\): the token is shorter than 16/],
    [{ API_TOKENS: 'ops:operator:   ' }, /API_TOKENS entry 1 \(ops\): the token is blank/],
    [{ API_TOKENS: `ops:admin:${OPS}` }, /the role must be viewer or operator/],
    [{ API_TOKENS: OPS }, /API_TOKENS entry 1 must be <name>:<role>:<token>/],
    [{ API_TOKENS: `ops:operator:${OPS},ops:viewer:${WALL}` }, /the name "ops" is used twice/],
    [{ API_TOKENS: `a:operator:${OPS},b:viewer:${OPS}` }, /"b" has the same token as another entry/],
    [{ API_TOKENS: `ops:operator:${OPS},,` }, /API_TOKENS entry 2 is empty/],
    [{ GRAPHQL_ALLOWED_ORIGINS: 'ops.example.com' }, /GRAPHQL_ALLOWED_ORIGINS "ops.example.com" is not an origin/],
  ])('%j is refused at start, without echoing a token', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain(OPS);
    }
  });

  it('names and roles are parsed; API_TOKEN joins them as default', () => {
    const config = loadConfig({ API_TOKENS: `ops:operator:${OPS},wall:VIEWER:${WALL}`, API_TOKEN: LEGACY });
    expect(config.apiTokens.map(({ name, role }) => `${name}:${role}`).sort()).toEqual(['default:operator', 'ops:operator', 'wall:viewer']);
  });
});
