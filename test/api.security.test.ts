import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { UpgradeStatus } from '../src/domain';
import { collect, eventually, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';
import { huaweiEnvelope } from './support/observations';

const TOKEN = 's3cret-token-0123456789';
let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({ API_TOKEN: TOKEN });
});
afterAll(() => gateway.stop());

describe('HTTP authentication', () => {
  it.each([
    ['missing', {}],
    ['wrong', { authorization: 'Bearer nope' }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
  ])('%s token: 401 with UNAUTHENTICATED', async (_name, headers) => {
    const { status, body } = await gateway.gql('{ __typename }', {}, headers as Record<string, string>);
    expect(status).toBe(401);
    expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('right token: answered', async () => {
    const { status, body } = await gateway.gql('{ __typename }', {}, { authorization: `Bearer ${TOKEN}` });
    expect(status).toBe(200);
    expect(body.data).toEqual({ __typename: 'Query' });
  });

  it('health, readiness and metrics stay open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(gateway.url + path)).status).toBe(200);
  });
});

describe('WebSocket authentication', () => {
  const closeCodeFor = (connectionParams?: Record<string, unknown>) =>
    new Promise<number>((resolve) => {
      const client = createClient({
        url: `${gateway.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams,
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {},
        // With no retries, a closed non-lazy client stays closed: nothing is left running.
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      client.subscribe({ query: 'subscription { upgradeProgress { event { id } } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    });

  it.each([
    ['missing', undefined],
    ['wrong', { authorization: 'Bearer nope' }],
  ])('%s token: closed with 4401 before any subscription runs', async (_name, params) => {
    expect(await closeCodeFor(params)).toBe(4401);
    expect((await gateway.metrics.activeSubscriptions.get()).values[0]?.value ?? 0).toBe(0);
  });

  it('right token: the subscription runs', async () => {
    const sub = collect<any>(gateway.ws({ authorization: `Bearer ${TOKEN}` }), 'subscription { upgradeProgress { event { status } } }');
    await subscriptionsRunning(gateway, 1);
    await gateway.recorder.record(huaweiEnvelope({ operationId: 'auth-ws', status: UpgradeStatus.IN_PROGRESS }));
    expect((await sub.until(1))[0].upgradeProgress.event.status).toBe('IN_PROGRESS');
    sub.unsubscribe();
  });
});

describe('limits', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const deep = `{ upgradeTasks { edges { node { subTasks { task { subTasks { task { subTasks { task { subTasks { task { id } } } } } } } } } } } }`;

  it('a query deeper than 10 is refused over HTTP', async () => {
    const { body } = await gateway.gql(deep, {}, auth);
    expect(body.errors?.[0].message).toMatch(/depth/i);
    expect(body.data).toBeUndefined();
  });

  it('the same rules apply over the WebSocket', async () => {
    const client = gateway.ws({ authorization: `Bearer ${TOKEN}` });
    const result = await new Promise<unknown[]>((resolve) => {
      const errors: unknown[] = [];
      client.subscribe(
        { query: `subscription { upgradeProgress { task { subTasks { task { subTasks { task { subTasks { task { subTasks { task { id } } } } } } } } } } }` },
        { next: (v) => errors.push(...(v.errors ?? [])), error: (e) => resolve(Array.isArray(e) ? e : [e]), complete: () => resolve(errors) },
      );
    });
    expect(JSON.stringify(result)).toMatch(/depth/i);
  });

  it('too many aliases are refused', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: upgradeTask(id: "${i}") { id }`).join(' ');
    const { body } = await gateway.gql(`{ ${aliases} }`, {}, auth);
    expect(body.errors?.[0].message).toMatch(/alias/i);
  });

  it('a request without a JSON content type (a CSRF attempt) is refused', async () => {
    const response = await fetch(`${gateway.url}/graphql?query=${encodeURIComponent('{__typename}')}`, { headers: auth });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/i);
  });

  it('at most 100 subscriptions per socket', async () => {
    const client = gateway.ws({ authorization: `Bearer ${TOKEN}` });
    const errors: unknown[] = [];
    const disposers = Array.from({ length: 101 }, () =>
      client.subscribe({ query: 'subscription { shadowStatusChanged { id } }' }, { next: () => {}, error: (e) => errors.push(e), complete: () => {} }),
    );
    await eventually(() => errors.length > 0, 10_000, 'the 101st subscription to be refused');
    expect(JSON.stringify(errors)).toMatch(/At most 100 subscriptions per socket/);
    expect(errors).toHaveLength(1);
    disposers.forEach((d) => d());
  });
});

describe('list cost', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  it('a dashboard page is well within the limit', async () => {
    const { body } = await gateway.gql(
      `query($n: Int) { upgradeTasks(first: $n) { edges { node { statusCounts { count } subTasks(first: 20) { nodes { deviceId status percent } } } } } }`,
      { n: 20 },
      auth,
    );
    expect(body.errors).toBeUndefined();
  });

  it('nested lists that could return too many objects are refused, also with page sizes in variables', async () => {
    const query = `query($n: Int, $m: Int) { upgradeTasks(first: $n) { edges { node { statusCounts { status count } subTasks(first: $m) { nodes { events(first: $m) { nodes { id status percent step errorCode occurredAt } } } } } } } }`;
    const { body } = await gateway.gql(query, { n: 5, m: 200 }, auth);
    expect(body.errors?.[0].message).toMatch(/the limit is 100000/);
    expect(body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('list cost through fragments', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  it('named fragments count as if inlined', async () => {
    const query = `query($n: Int, $m: Int) { upgradeTasks(first: $n) { nodes { ...Task } } }
      fragment Task on UpgradeTask { subTasks(first: $m) { nodes { events(first: $m) { nodes { id status } } } } }`;
    const { body } = await gateway.gql(query, { n: 5, m: 200 }, auth);
    expect(body.errors?.[0].message).toMatch(/the limit is 100000/);
  });
});
