import { ApolloClient, ApolloLink, HttpLink } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { createClient, type Client } from 'graphql-ws';
import { createGatewayCache } from './cache';
import { ResumeLink } from './resume-link';

/** Where the gateway is and how to reach it. */
export interface GatewayClientOptions {
  /** The gateway's base URL, e.g. `http://localhost:4000`. */
  readonly url: string;
  /** The API token (`API_TOKEN` / `API_TOKENS`), if the gateway asks for one. */
  readonly token?: string;
  /** A WebSocket class where there is no global one (Node < 22: `import WebSocket from 'ws'`). */
  readonly webSocketImpl?: unknown;
}

/** An Apollo Client for the gateway and the graphql-ws client under its subscriptions. */
export interface GatewayClient {
  readonly apollo: ApolloClient;
  readonly ws: Client;
  /** Stops the client and closes its socket. */
  dispose(): Promise<void>;
}

/**
 * Queries and mutations over HTTP, subscriptions over graphql-ws (resumed
 * after a reconnect by {@link ResumeLink}), one normalised cache. The token
 * goes in the `Authorization` header and in the socket's `connectionParams`.
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const authorization = options.token ? `Bearer ${options.token}` : undefined;
  const ws = createClient({
    url: `${options.url.replace(/^http/, 'ws')}/graphql`,
    connectionParams: authorization ? { authorization } : undefined,
    webSocketImpl: options.webSocketImpl,
    // Keep trying through network blips; a refused token (4401/4403) is final.
    retryAttempts: Infinity,
    shouldRetry: (event) => !(isCloseEvent(event) && (event.code === 4401 || event.code === 4403)),
  });
  const http = new HttpLink({
    uri: `${options.url}/graphql`,
    headers: authorization ? { authorization } : {},
  });
  const apollo = new ApolloClient({
    link: ApolloLink.split(({ query }) => isSubscriptionOperation(query), ApolloLink.from([new ResumeLink(), new GraphQLWsLink(ws)]), http),
    cache: createGatewayCache(),
  });
  return {
    apollo,
    ws,
    async dispose() {
      apollo.stop();
      await ws.dispose();
    },
  };
}

function isCloseEvent(value: unknown): value is { code: number } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number';
}
