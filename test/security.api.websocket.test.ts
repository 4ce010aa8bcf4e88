/**
 * The WebSocket path (graphql-ws), tried as an attacker would, over real
 * sockets (a graphql-ws client and raw `ws`): the same tokens, roles,
 * Origin policy, introspection switch and error hygiene as HTTP; frames over
 * 1 MiB closed before they are read; auth failures closed with 4401/4403 and
 * a reason; subscriptions priced and capped per socket and per token, a heavy
 * set refused before it runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse } from 'graphql';
import { documentCost } from '../src/graphql/list-cost';
import { SUBSCRIPTION_LIMITS } from '../src/server/graphql.plugin';
import { UpgradeStatus } from '../src/domain';
import { CREATE_UPGRADE, firmwareUpgradeInput, logCapture, rawSocket, runOnce, wsClient, wsUrl } from './security.api.support';
import { collect, eventually, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';
import { huaweiEnvelope } from './support/observations';

const OPS = 'ops-ws-token-0123456789abcdef';
const WALL = 'wall-ws-token-0123456789abcdef';
const captured = logCapture([OPS, WALL]);
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway(
    {
      API_TOKENS: `ops:operator:${OPS},wall:viewer:${WALL}`,
      GRAPHQL_ALLOWED_ORIGINS: 'https://ops.example.com',
      GRAPHQL_INTROSPECTION: 'false',
      LOG_LEVEL: 'info',
    },
    { logger: captured.logger },
  );
});
afterAll(() => gateway.stop());

const active = async () => (await gateway.metrics.activeSubscriptions.get()).values[0]?.value ?? 0;

describe('authentication: the usual spellings of connection_init, readable refusals', () => {
  it.each([
    ['authorization: Bearer', { authorization: `Bearer ${OPS}` }],
    ['Authorization (capital A)', { Authorization: `Bearer ${OPS}` }],
    ['a bare token', { authorization: OPS }],
    ['bearer in lower case', { authorization: `bearer ${OPS}` }],
    ['{ headers: { authorization } }', { headers: { authorization: `Bearer ${OPS}` } }],
    ['{ headers: { Authorization } }', { headers: { Authorization: `Bearer ${OPS}` } }],
  ])('%s: connected', async (_name, params) => {
    const { client, outcome } = wsClient(gateway, params);
    expect(await outcome).toEqual({ connected: true });
    await client.dispose();
  });

  it.each([
    ['no payload', undefined, 'Missing API token'],
    ['an empty payload', {}, 'Missing API token'],
    ['a wrong token', { authorization: 'Bearer wrong-token-0123456789abcdef' }, 'Wrong API token'],
    ['a token in another field', { password: OPS }, 'Missing API token'],
  ])('%s: closed with 4401 and a reason saying why', async (_name, params, reason) => {
    const { client, outcome } = wsClient(gateway, params as Record<string, unknown> | undefined);
    const closed = await outcome;
    expect(closed).toMatchObject({ connected: false, code: 4401 });
    expect((closed as { reason: string }).reason).toContain(reason);
    await client.dispose();
  });

  it('a subscribe before connection_init is refused (4401) and runs nothing', async () => {
    const outcome = await rawSocket(wsUrl(gateway), {
      onOpen: (ws) => ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { shadowStatusChanged { id } }' } })),
    });
    expect(outcome).toMatchObject({ kind: 'closed', code: 4401 });
    expect(await active()).toBe(0);
  });

  it('a token on the upgrade request itself (non-browser clients) is accepted too', async () => {
    const outcome = await rawSocket(wsUrl(gateway), {
      headers: { authorization: `Bearer ${WALL}` },
      onOpen: (ws) => ws.send(JSON.stringify({ type: 'connection_init' })),
      openForMs: 300,
    });
    expect(outcome).toMatchObject({ kind: 'open', messages: [JSON.stringify({ type: 'connection_ack' })] });
  });
});

describe('roles on the WebSocket', () => {
  it("a viewer subscribes, but a viewer's mutation is FORBIDDEN and creates nothing", async () => {
    const { client, outcome } = wsClient(gateway, { authorization: WALL });
    await outcome;
    const sub = collect<any>(client, 'subscription { upgradeProgress { event { status } } }');
    await subscriptionsRunning(gateway, 1);
    await gateway.recorder.record(huaweiEnvelope({ operationId: 'ws-viewer', status: UpgradeStatus.IN_PROGRESS }));
    expect((await sub.until(1))[0].upgradeProgress.event.status).toBe('IN_PROGRESS');
    sub.unsubscribe();

    const result = await runOnce(client, CREATE_UPGRADE, { input: firmwareUpgradeInput('WSVIEWER0001') });
    expect(result.errors[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const [{ n }] = (await gateway.dataSource.query(`SELECT COUNT(*) AS n FROM upgrade_task WHERE gateway_sn = 'WSVIEWER0001'`)) as { n: number }[];
    expect(Number(n)).toBe(0);
    await client.dispose();
  });

  it("an operator's mutation over the WebSocket runs, records createdBy and an audit line", async () => {
    const { client, outcome } = wsClient(gateway, { authorization: `Bearer ${OPS}` });
    await outcome;
    const result = await runOnce(client, CREATE_UPGRADE, { input: firmwareUpgradeInput('WSOPS0000001') });
    expect(result.data[0]).toMatchObject({ createFirmwareUpgrade: { createdBy: 'ops' } });
    const audits = captured.parsed().filter((l) => l.audit?.transport === 'websocket');
    expect(audits.map((l) => `${l.audit.principal}/${l.audit.outcome}`)).toEqual(['wall/forbidden', 'ops/allowed']);
    expect(captured.text()).not.toContain(OPS);
    await client.dispose();
  });
});

describe('the same rules as HTTP', () => {
  const auth = { authorization: `Bearer ${OPS}` };

  it('introspection is refused on both paths when GRAPHQL_INTROSPECTION=false', async () => {
    const http = await gateway.gql('{ __schema { types { name } } }', {}, auth);
    expect(http.body.errors?.[0].message).toMatch(/introspection/i);
    const { client, outcome } = wsClient(gateway, auth);
    await outcome;
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "UpgradeTask") { fields { name } } }', 'query { upgradeTasks { totalCount } __schema { queryType { name } } }']) {
      const ws = await runOnce(client, query);
      expect({ query, message: ws.errors[0]?.message }).toEqual({ query, message: expect.stringMatching(/introspection/i) });
      expect(ws.data).toEqual([]);
    }
    await client.dispose();
  });

  it('no "Did you mean" on either path: fields, arguments, types and enum values', async () => {
    const { client, outcome } = wsClient(gateway, auth);
    await outcome;
    const probes: [string, Record<string, unknown>?][] = [
      ['{ upgradeTask(id: "1") { statu } }'],
      ['{ upgradeTasks(frist: 1) { totalCount } }'],
      ['{ upgradeTasks(filter: { status: SUCCEDED }) { totalCount } }'],
      ['query($s: UpgradeStatus) { upgradeTasks(filter: { status: $s }) { totalCount } }', { s: 'SUCCEDED' }],
      ['query($f: UpgradeTaskFiltr) { upgradeTasks { totalCount } }'],
      ['subscription { upgradeProgres { event { id } } }'],
      ['subscription($s: String) { upgradeProgress(deviceId: $s) { event { statsu } } }'],
    ];
    for (const [query, variables] of probes) {
      const http = await gateway.gql(query, variables, auth);
      const ws = await runOnce(client, query, variables);
      const text = JSON.stringify({ http: http.body.errors, ws: ws.errors });
      expect({ query, errors: http.body.errors?.length ?? 0, wsErrors: ws.errors.length }).toEqual({
        query,
        errors: expect.any(Number),
        wsErrors: expect.any(Number),
      });
      expect(http.body.errors?.length).toBeGreaterThan(0);
      expect(ws.errors.length).toBeGreaterThan(0);
      expect({ query, suggests: /did you mean/i.test(text) }).toEqual({ query, suggests: false });
    }
    await client.dispose();
  });

  it('a frame over 1 MiB is refused (1009) before authentication, without reading it whole', async () => {
    const outcome = await rawSocket(wsUrl(gateway), {
      onOpen: (ws) => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'x'.repeat(2 * 1024 * 1024) } })),
    });
    expect(outcome).toMatchObject({ kind: 'closed', code: 1009 });
  });

  it('a frame just under 1 MiB is read (and then refused for its content, not its size)', async () => {
    const outcome = await rawSocket(wsUrl(gateway), {
      onOpen: (ws) => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'x'.repeat(1000 * 1024) } })),
    });
    expect(outcome).toMatchObject({ kind: 'closed', code: 4401 });
  });

  it.each([
    ['a foreign origin', 'https://evil.example'],
    ['a foreign origin on the same port', 'http://evil.example:80'],
    ['the null origin', 'null'],
  ])('an upgrade from %s is refused with 403 before any WebSocket exists', async (_name, origin) => {
    expect(await rawSocket(wsUrl(gateway), { origin })).toEqual({ kind: 'refused', status: 403 });
  });

  it.each([
    ['a listed origin', 'https://ops.example.com'],
    ["the gateway's own origin", 'SAME'],
    ['no Origin (a server or CLI client)', undefined],
  ])('an upgrade from %s is let in', async (_name, origin) => {
    const outcome = await rawSocket(wsUrl(gateway), {
      origin: origin === 'SAME' ? gateway.url : origin,
      onOpen: (ws) => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: OPS } })),
      openForMs: 300,
    });
    expect(outcome).toMatchObject({ kind: 'open', messages: [JSON.stringify({ type: 'connection_ack' })] });
  });
});

describe('subscriptions priced and capped', () => {
  // One device's history through its task's other devices: lists in lists, the cost of one event multiplies.
  // Page sizes as variables, as clients pass them: graphql-armor's depth-weighted cost sees no numbers then.
  const HEAVY = `subscription($n: Int) { upgradeProgress { task { subTasks(first: $n) { nodes { events(first: $n) { nodes { id status percent } } } } } } }`;
  const HEAVY_VARIABLES = { n: 30 };
  const LIGHT = 'subscription { upgradeProgress { event { id } } }';
  // Priced as the gateway prices it (the checked-in schema is the gateway's, printed).
  const schema = buildSchema(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));
  const costOf = (query: string) => documentCost(parse(query), schema, HEAVY_VARIABLES).get('')!;

  it('a socket may hold heavy subscriptions up to its cost budget; the next is refused before it runs, light ones still fit', async () => {
    const heavy = costOf(HEAVY);
    const fit = Math.floor(SUBSCRIPTION_LIMITS.costPerSocket / heavy);
    expect(fit).toBeGreaterThan(0);
    expect(fit).toBeLessThan(SUBSCRIPTION_LIMITS.perSocket);

    const { client, outcome } = wsClient(gateway, { authorization: OPS });
    await outcome;
    const subs = Array.from({ length: fit }, () => collect<any>(client, HEAVY, HEAVY_VARIABLES));
    await subscriptionsRunning(gateway, fit);
    const refused = collect<any>(client, HEAVY, HEAVY_VARIABLES);
    await eventually(() => refused.errors.length > 0, 10_000, 'the heavy subscription over budget to be refused');
    expect(JSON.stringify(refused.errors)).toMatch(/subscriptions of this socket could return about \d+ objects per event; the limit is 10000/);
    expect(await active()).toBe(fit);

    // What is left of the budget still takes a light subscription, which runs.
    const light = collect<any>(client, LIGHT);
    await subscriptionsRunning(gateway, fit + 1);
    await gateway.recorder.record(huaweiEnvelope({ operationId: 'ws-budget', status: UpgradeStatus.IN_PROGRESS }));
    await light.until(1);
    await subs[0].until(1);
    expect(refused.received).toEqual([]);

    // Unsubscribing gives the room back.
    subs.forEach((s) => s.unsubscribe());
    light.unsubscribe();
    await eventually(async () => (await active()) === 0, 10_000, 'every subscription released');
    const again = collect<any>(client, HEAVY, HEAVY_VARIABLES);
    await subscriptionsRunning(gateway, 1);
    expect(again.errors).toEqual([]);
    again.unsubscribe();
    await client.dispose();
    await eventually(async () => (await active()) === 0, 10_000, 'released on close');
  });

  it('one token across many sockets is capped too, and another token is not affected', async () => {
    const heavy = costOf(HEAVY);
    const perSocket = Math.floor(SUBSCRIPTION_LIMITS.costPerSocket / heavy);
    const fitForToken = Math.floor(SUBSCRIPTION_LIMITS.costPerPrincipal / heavy);
    const sockets = Math.ceil((fitForToken + 1) / perSocket);
    const clients = [];
    const subs: ReturnType<typeof collect<any>>[] = [];
    for (let i = 0; i < sockets; i++) {
      const { client, outcome } = wsClient(gateway, { authorization: OPS });
      await outcome;
      clients.push(client);
      for (let j = 0; j < perSocket; j++) subs.push(collect<any>(client, HEAVY, HEAVY_VARIABLES));
    }
    await eventually(() => subs.filter((s) => s.errors.length > 0).length === subs.length - fitForToken, 20_000, 'the subscriptions over the token budget refused');
    expect(await active()).toBe(fitForToken);
    const refused = subs.filter((s) => s.errors.length > 0);
    expect(JSON.stringify(refused[0].errors)).toMatch(/subscriptions of this API token could return about \d+ objects per event; the limit is 100000/);

    // Another token has its own budget.
    const { client: other, outcome } = wsClient(gateway, { authorization: WALL });
    await outcome;
    const theirs = collect<any>(other, HEAVY, HEAVY_VARIABLES);
    await subscriptionsRunning(gateway, fitForToken + 1);
    expect(theirs.errors).toEqual([]);

    // Refusals are counted for operators to watch.
    const refusals = (await gateway.metrics.graphqlRefused.get()).values;
    const count = (transport: string, reason: string) => refusals.find((v) => v.labels.transport === transport && v.labels.reason === reason)?.value ?? 0;
    expect(count('websocket', 'subscription_budget')).toBeGreaterThan(0);
    expect(count('websocket', 'unauthenticated')).toBeGreaterThan(0);
    expect(count('websocket', 'origin')).toBeGreaterThan(0);
    expect(count('websocket', 'role')).toBeGreaterThan(0);

    // Closing the sockets gives the token's room back.
    await Promise.all([...clients, other].map((c) => c.dispose()));
    await eventually(async () => (await active()) === 0, 10_000, 'every subscription released');
  });
});
