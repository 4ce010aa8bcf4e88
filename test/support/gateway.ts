import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import pino from 'pino';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway';

/** A gateway started for a test, on free ports and its own SQLite file. */
export interface TestGateway extends Gateway {
  /** The folder holding its database; removed by `stop()`. */
  readonly dir: string;
  /** POSTs a GraphQL operation over HTTP and returns the parsed body and status. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: ExecutionResult<T> & { errors?: { message: string; extensions?: Record<string, unknown> }[] } }>;
  /** A graphql-ws client on this gateway (closed by `stop()`). */
  ws(connectionParams?: Record<string, unknown>): Client;
  /** Closes the gateway and removes its folder (unless `keepDir`). */
  stop(options?: { keepDir?: boolean }): Promise<void>;
}

/**
 * Starts a real gateway: real SQLite file, embedded broker on a free port,
 * HTTP on a free port. `env` overrides the environment it is configured from.
 */
export async function startTestGateway(
  env: Record<string, string> = {},
  options: GatewayOptions & { dir?: string } = {},
): Promise<TestGateway> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ota-gw-'));
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      MQTT_PORT: '0',
      MQTT_HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dir, 'gateway.sqlite')}`,
      MQTT_CLIENT_ID: `ota-gateway-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      LOG_LEVEL: 'silent',
      ...env,
    });
    gateway = await startGateway(config, { logger: pino({ level: 'silent' }), ...options });
  } catch (error) {
    // A start that fails (as some tests expect) leaves no folder behind either.
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const clients: Client[] = [];
  return Object.assign(Object.create(null), gateway, {
    dir,
    close: gateway.close,
    async gql(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: await response.json() };
    },
    ws(connectionParams?: Record<string, unknown>) {
      const client = createClient({
        url: `${gateway.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams,
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async stop(stopOptions: { keepDir?: boolean } = {}) {
      await Promise.all(clients.map((c) => c.dispose()));
      await gateway.close();
      if (!stopOptions.keepDir && !options.dir) rmSync(dir, { recursive: true, force: true });
    },
  }) as TestGateway;
}

/**
 * Subscribes and collects every `next` payload; `until(n)` waits for the n-th.
 * `ready` resolves once the server acknowledged the subscription is running.
 */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const received: T[] = [];
  const errors: unknown[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const wake = () => {
    for (const w of [...waiters]) {
      if (received.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) received.push(value.data as T);
        wake();
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return {
    received,
    errors,
    unsubscribe,
    /** Resolves once `count` payloads arrived; rejects after `timeoutMs`. */
    until(count: number, timeoutMs = 10_000): Promise<T[]> {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`got ${received.length} of ${count} payloads; errors: ${JSON.stringify(errors)}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received);
          },
        });
      });
    },
  };
}

/** Waits until the socket is connected (graphql-ws is lazy: it connects on the first subscribe). */
export function connected(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const off = client.on('connected', () => {
      off();
      resolve();
    });
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true; rejects after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * Resolves once the gateway has at least `count` subscriptions running, so
 * that what a test records next is seen live.
 */
export async function subscriptionsRunning(gateway: Gateway, count: number): Promise<void> {
  await eventually(
    async () => ((await gateway.metrics.activeSubscriptions.get()).values[0]?.value ?? 0) >= count,
    10_000,
    `${count} running subscriptions`,
  );
  // The resolver attaches its listener right after onSubscribe counts it.
  await sleep(50);
}
