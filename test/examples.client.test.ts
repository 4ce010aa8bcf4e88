import WebSocket from 'ws';
import { createGatewayClient, type GatewayClient } from '../examples/client/client';
import { ListTasksDocument } from '../examples/generated/graphql';
import { startTestGateway, type TestGateway } from './support/gateway';

/*
 * The example client (examples/client) as a frontend uses it: Apollo Client
 * over HTTP and graphql-ws with the generated typed documents, against a real
 * gateway with a token.
 */
const TOKEN = 'frontend-example-token-0123456789';
let gateway: TestGateway;
let client: GatewayClient;

beforeAll(async () => {
  gateway = await startTestGateway({ API_TOKEN: TOKEN });
});
afterEach(async () => client?.dispose());
afterAll(async () => gateway.stop());

test('the typed client lists tasks and reads one over HTTP with the token', async () => {
  client = createGatewayClient({ url: gateway.url, token: TOKEN, webSocketImpl: WebSocket });
  const before = await client.apollo.query({ query: ListTasksDocument, variables: { first: 5 } });
  expect(before.data?.upgradeTasks.totalCount).toBe(0);
});
