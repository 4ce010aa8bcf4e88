import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

type ExecutionResult = FormattedExecutionResult<Record<string, unknown>, unknown>;
import WebSocket from 'ws';
import { metricValue } from './gateway';
import { sleep, until, withTimeout } from './proc';

/** A graphql-ws client on one socket, holding one subscription. */
export interface GraphqlSubscriber {
  readonly client: Client;
  readonly errors: unknown[];
  dispose(): Promise<void>;
}

/**
 * Opens a graphql-ws socket and subscribes `query` on it; `onNext` gets every
 * `next` payload. Resolves once the socket is acknowledged (graphql-ws has no
 * acknowledgement per subscription: use {@link waitSubscriptions}).
 */
export async function openSubscriber(
  url: string,
  query: string,
  onNext: (value: ExecutionResult) => void,
  onError: (error: unknown) => void = () => undefined,
  timeoutMs = 10_000,
  variables?: Record<string, unknown>,
): Promise<GraphqlSubscriber> {
  const client = createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, lazyCloseTimeout: 0 });
  const errors: unknown[] = [];
  const connected = new Promise<void>((resolve, reject) => {
    const offConnected = client.on('connected', () => {
      offConnected();
      resolve();
    });
    client.on('closed', (event) => reject(new Error(`graphql-ws socket closed: ${JSON.stringify((event as { code?: number })?.code)}`)));
  });
  client.subscribe(
    { query, variables },
    {
      next: (value) => {
        if (value.errors?.length) errors.push(...value.errors);
        onNext(value);
      },
      error: (error) => {
        errors.push(error);
        onError(error);
      },
      complete: () => undefined,
    },
  );
  const subscriber = { client, errors, dispose: () => Promise.resolve(client.dispose()).catch(() => undefined) };
  try {
    await withTimeout(connected, timeoutMs, 'a graphql-ws connection');
  } catch (error) {
    await subscriber.dispose();
    throw error;
  }
  return subscriber;
}

/** Opens `count` subscribers, `batch` connections at a time. */
export async function openSubscribers(
  url: string,
  query: string,
  count: number,
  onNext: (index: number, value: ExecutionResult) => void,
  onError: (error: unknown) => void = () => undefined,
  batch = 50,
): Promise<GraphqlSubscriber[]> {
  const subscribers: GraphqlSubscriber[] = [];
  try {
    for (let start = 0; start < count; start += batch) {
      const size = Math.min(batch, count - start);
      const opened = await Promise.all(
        Array.from({ length: size }, (_, j) => openSubscriber(url, query, (value) => onNext(start + j, value), onError)),
      );
      subscribers.push(...opened);
    }
  } catch (error) {
    await Promise.all(subscribers.map((s) => s.dispose()));
    throw error;
  }
  return subscribers;
}

/** Waits until the gateway counts at least `count` running subscriptions (its /metrics gauge). */
export async function waitSubscriptions(metrics: () => Promise<string>, count: number, timeoutMs = 30_000): Promise<void> {
  await until(
    async () => metricValue(await metrics(), 'ota_graphql_active_subscriptions') >= count,
    timeoutMs,
    `${count} running subscriptions`,
    100,
  );
  // The resolver attaches its listener right after onSubscribe counts it.
  await sleep(100);
}

/**
 * Publishes a warm-up event with `publish` until `received()` reaches `count`
 * (a subscription whose listener was not attached yet misses one, so it is
 * retried, at most `attempts` times).
 */
export async function warmUp(publish: (attempt: number) => Promise<void>, received: () => number, count: number, attempts = 5): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await publish(attempt);
    try {
      await until(() => received() >= count, 3_000, 'the warm-up event', 10);
      await sleep(300); // let a late second warm-up arrive before counting starts
      return;
    } catch {
      /* publish another one */
    }
  }
  throw new Error(`warm-up: ${received()} of ${count} subscribers got an event after ${attempts} attempts`);
}
