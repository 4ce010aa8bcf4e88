/*
 * Live progress over graphql-ws (the graphql-transport-ws protocol) on the
 * same /graphql path. The socket reconnects forever; each (re)subscription
 * sends `after` = the id of the last ProgressEvent applied, and the gateway
 * replays what was recorded since before going live: no gap, no duplicate.
 */
import { createClient } from 'graphql-ws/client';
import { currentToken, tokenPrompt, tokenRefused } from './auth';
import { GRAPHQL_PATH } from './http';
import { PROGRESS_SUBSCRIPTION, type ProgressData } from './graphql';

/** What the connection line shows. */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'token' | 'stopped';

export interface LiveOptions {
  onProgress(message: ProgressData['upgradeProgress']): void;
  onState(state: LiveState, detail?: string): void;
}

/** Close codes of a refused connection: 4401 a missing or wrong token, 4403 not allowed (the reason says why). */
const UNAUTHENTICATED = 4401;
const FORBIDDEN = 4403;

/** Longest wait between two connection attempts. */
const MAX_RETRY_WAIT_MS = 15_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What ended a subscription: GraphQL errors, a close event or an Error. */
function describeStop(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? 'error').join('; ');
  if (error instanceof Error) return error.message;
  const close = error as { code?: number; reason?: string } | null;
  if (close && typeof close.code === 'number') return `socket closed with ${close.code}${close.reason ? ` (${close.reason})` : ''}`;
  return 'connection error';
}

/**
 * Starts the progress subscription. Returns a promise that resolves the first
 * time the socket is acknowledged: the page reads the task list after that, so
 * that what is recorded after the read comes through the subscription.
 */
export function startLive({ onProgress, onState }: LiveOptions): { connected: Promise<void> } {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  /** Id of the last ProgressEvent applied; null until the first one arrives. */
  let lastEventId: string | null = null;
  /** The token the current connection was opened with, to tell a refusal of it from a stale one. */
  let tokenSent: string | null = null;
  let markConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => (markConnected = resolve));

  const client = createClient({
    url: `${scheme}//${location.host}${GRAPHQL_PATH}`,
    retryAttempts: Infinity,
    // Retry on network errors too, not only on close events (the default).
    shouldRetry: () => true,
    // Called on every connection, so a token entered after a 4401 is used on the next attempt.
    connectionParams: () => {
      tokenSent = currentToken();
      return tokenSent === null ? {} : { authorization: `Bearer ${tokenSent}` };
    },
    // While the token form is open, wait for it instead of hammering the
    // gateway; otherwise back off exponentially, capped so it recovers soon
    // after a restart of the gateway.
    retryWait: async (retries) => {
      const waitingForToken = tokenPrompt();
      if (waitingForToken) return void (await waitingForToken);
      await sleep(Math.min(1000 * 2 ** retries, MAX_RETRY_WAIT_MS) + Math.random() * 1000);
    },
    on: {
      connecting: (isRetry) => onState(isRetry ? 'reconnecting' : 'connecting'),
      connected: () => {
        onState('live');
        markConnected();
      },
      closed: (event) => {
        const code = (event as { code?: number } | undefined)?.code;
        if (code === UNAUTHENTICATED || code === FORBIDDEN) {
          onState('token');
          // Opens the token form (once); retryWait above waits for it.
          void tokenRefused(tokenSent);
        } else {
          onState('reconnecting');
        }
      },
    },
  });

  const subscribe = (): void => {
    client.subscribe<ProgressData>(
      {
        query: PROGRESS_SUBSCRIPTION,
        // graphql-ws sends this same payload object again after every
        // reconnect. A getter makes each send carry the last event id seen
        // at that moment, which is what turns a reconnect into a resume.
        get variables() {
          return { after: lastEventId };
        },
      },
      {
        next: (result) => {
          const message = result.data?.upgradeProgress;
          if (!message) {
            console.warn('upgradeProgress without data', result.errors);
            return;
          }
          // Ids are numeric strings; keep the highest in case of reordering.
          if (lastEventId === null || Number(message.event.id) > Number(lastEventId)) lastEventId = message.event.id;
          onProgress(message);
        },
        // The gateway ended the subscription with an error (for instance it
        // fell too far behind) or closed the socket with a code graphql-ws
        // gives up on: start again, resuming from the last event.
        error: (error) => {
          // graphql-ws does not retry a 4401 itself: resubscribe once a token is entered.
          if ((error as { code?: number } | null)?.code === UNAUTHENTICATED) {
            onState('token');
            void tokenRefused(tokenSent).then(() => subscribe());
            return;
          }
          onState('stopped', describeStop(error));
          setTimeout(subscribe, 5000);
        },
        // The stream is endless; if it completes anyway, resume it.
        complete: () => setTimeout(subscribe, 1000),
      },
    );
  };
  subscribe();
  return { connected };
}
