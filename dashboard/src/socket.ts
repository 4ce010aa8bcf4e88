/*
 * One graphql-ws connection shared by the views that only need "what changed
 * now" (Devices, Rollouts). Unlike the task progress (live.ts), these
 * subscriptions cannot resume from a cursor: after a reconnect each view reads
 * its data again instead, through {@link onReconnected}.
 */
import { createClient, type Client } from 'graphql-ws/client';
import { currentToken, tokenPrompt } from './auth';
import { GRAPHQL_PATH } from './http';

/** Longest wait between two connection attempts. */
const MAX_RETRY_WAIT_MS = 15_000;

/** How long a first read waits for the socket before going ahead without it. */
const FIRST_READ_WAITS_MS = 3000;

let client: Client | null = null;
const reconnectListeners: (() => void)[] = [];
let markConnected: () => void = () => {};
const connected = new Promise<void>((resolve) => (markConnected = resolve));

function sharedClient(): Client {
  if (client) return client;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  client = createClient({
    url: `${scheme}//${location.host}${GRAPHQL_PATH}`,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: () => {
      const token = currentToken();
      return token === null ? {} : { authorization: `Bearer ${token}` };
    },
    // While the token form is open (live.ts opens it on a refusal), wait for it.
    retryWait: async (retries) => {
      const waitingForToken = tokenPrompt();
      if (waitingForToken) return void (await waitingForToken);
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, MAX_RETRY_WAIT_MS) + Math.random() * 1000));
    },
    on: {
      connected: (_socket, _payload, wasRetry) => {
        markConnected();
        if (wasRetry) for (const listener of reconnectListeners) listener();
      },
    },
  });
  return client;
}

/**
 * Resolves once the socket is first up (or after a few seconds without it).
 * A view reads its first page then: what changes after the read arrives
 * through its subscription, already open, and copies are merged by updatedAt.
 */
export function firstConnection(): Promise<void> {
  return Promise.race([connected, new Promise<void>((resolve) => setTimeout(resolve, FIRST_READ_WAITS_MS))]);
}

/** Calls `listener` after every reconnect, so a view can read again what it missed. */
export function onReconnected(listener: () => void): void {
  reconnectListeners.push(listener);
}

/**
 * Subscribes for good: `onData` gets each message's data; if the gateway ends
 * the subscription (an error, or a completion), it is started again.
 */
export function subscribeForever<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): void {
  const subscribe = (): void => {
    sharedClient().subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          if (result.data) onData(result.data);
        },
        error: () => setTimeout(subscribe, 5000),
        complete: () => setTimeout(subscribe, 1000),
      },
    );
  };
  subscribe();
}
