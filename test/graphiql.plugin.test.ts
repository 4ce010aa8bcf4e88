import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from './support/gateway';

/*
 * GET /graphiql, /schema.graphql and /favicon.ico on a real gateway. The IDE's
 * files come from `npm run build` (the jest global setup compiles the server;
 * the page bundle is checked where it exists, and in test/e2e in a browser).
 */
const TOKEN = 'graphiql-plugin-token-0123456789';
let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({ API_TOKEN: TOKEN });
});
afterAll(() => gateway.stop());

test('the IDE page needs no token, allows scripts from this origin only, and names its own bundle', async () => {
  const response = await fetch(`${gateway.url}/graphiql`);
  // 503 only when the page was never built; `npm run build` builds it.
  expect([200, 503]).toContain(response.status);
  if (response.status === 503) return;
  expect(response.headers.get('content-type')).toMatch(/text\/html/);
  const csp = response.headers.get('content-security-policy')!;
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("default-src 'none'");
  const html = await response.text();
  expect(html).toContain('/graphiql/app.js');
  expect(html).not.toMatch(/https?:\/\//);
});

test('only the known files are served under /graphiql/', async () => {
  for (const path of ['/graphiql/..%2F..%2Fpackage.json', '/graphiql/nope.js', '/graphiql/%2e%2e']) {
    expect((await fetch(`${gateway.url}${path}`)).status).toBe(404);
  }
});

test('/schema.graphql is the checked-in schema', async () => {
  const response = await fetch(`${gateway.url}/schema.graphql`);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));
});

test('/favicon.ico is an icon', async () => {
  const response = await fetch(`${gateway.url}/favicon.ico`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/x-icon');
  const body = Buffer.from(await response.arrayBuffer());
  expect([...body.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
});

test('with GRAPHQL_INTROSPECTION=false neither the IDE nor the schema file is served', async () => {
  const closed = await startTestGateway({ GRAPHQL_INTROSPECTION: 'false' });
  try {
    expect((await fetch(`${closed.url}/graphiql`)).status).toBe(404);
    expect((await fetch(`${closed.url}/schema.graphql`)).status).toBe(404);
    expect((await fetch(`${closed.url}/favicon.ico`)).status).toBe(200);
  } finally {
    await closed.stop();
  }
});
