/*
 * GET /graphiql: GraphiQL (from its npm package) with everything it needs
 * bundled and served by the gateway, so it works on closed networks.
 * Queries and mutations go over HTTP, subscriptions over graphql-ws on the
 * same /graphql path. The token field adds `Authorization: Bearer …` to both
 * (the dashboard's token, same sessionStorage key, is picked up).
 */
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createClient, type Client } from 'graphql-ws';
import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import './page.css';

const STORAGE_KEY = 'ota-gateway.apiToken';
const GRAPHQL_PATH = '/graphql';

const DEFAULT_QUERY = `# The newest upgrades. Ids are global: node(id:) fetches any of them back.
query LatestTasks {
  upgradeTasks(first: 10) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id externalId source status progress
      statusCounts { status count }
    }
  }
}

# Live progress, resumable: pass the cursor of the last message as after.
subscription Progress {
  upgradeProgress {
    cursor
    task { id status progress }
    subTask { id deviceId status percent step }
    event { id status percent }
  }
}
`;

function readToken(): string {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? '';
  } catch {
    return '';
  }
}

function storeToken(token: string): void {
  try {
    if (token === '') sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // Storage may be off (private mode): the token lives for this page only.
  }
}

/** A fetcher over HTTP and graphql-ws that sends `token` with both. */
function fetcherFor(token: string): { fetcher: Fetcher; ws: Client } {
  const authorization = token ? `Bearer ${token}` : undefined;
  const ws = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL_PATH}`,
    connectionParams: authorization ? { authorization } : {},
    lazy: true,
    retryAttempts: 3,
  });
  const fetcher = createGraphiQLFetcher({
    url: GRAPHQL_PATH,
    wsClient: ws,
    headers: authorization ? { authorization } : {},
  });
  return { fetcher, ws };
}

function App() {
  const [token, setToken] = useState(readToken);
  const [draft, setDraft] = useState(token);
  const { fetcher } = useMemo(() => fetcherFor(token), [token]);
  return (
    <div className="page">
      <form
        className="token-bar"
        onSubmit={(event) => {
          event.preventDefault();
          storeToken(draft.trim());
          setToken(draft.trim());
        }}
      >
        <a className="home" href="/dashboard">
          OTA Gateway
        </a>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="Bearer token (API_TOKEN / API_TOKENS), if the gateway asks for one"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit">Use token</button>
        <span className="links">
          <a href="/schema.graphql">schema.graphql</a>
        </span>
      </form>
      <div className="ide">
        {/* A new fetcher (and socket) per token: GraphiQL refetches the schema with it. */}
        <GraphiQL key={token} fetcher={fetcher} defaultQuery={DEFAULT_QUERY} defaultEditorToolsVisibility={false} />
      </div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
