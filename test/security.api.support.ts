/**
 * Helpers of the security.api suites: a log capture through the gateway's own
 * logger factory (so masking is tested as it runs in production), raw
 * WebSockets that report how they were refused, and a graphql-ws client that
 * reports its close event.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createLogger } from '../src/server/log-redaction';
import type { TestGateway } from './support/gateway';

/** A logger made by createLogger (masking included) whose lines are kept. */
export function logCapture(secrets: readonly string[] = [], level = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ level, secrets }, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    lines,
    text: () => lines.join(''),
    /** Parsed lines written since `from`. */
    parsed: (from = 0) => lines.slice(from).map((l) => JSON.parse(l) as Record<string, any>),
  };
}

/** The ws:// URL of a gateway's GraphQL endpoint. */
export const wsUrl = (gateway: TestGateway) => `${gateway.url.replace(/^http/, 'ws')}/graphql`;

/** How a raw WebSocket ended: an HTTP refusal of the upgrade, or a close frame. */
export type RawOutcome = { kind: 'refused'; status: number } | { kind: 'closed'; code: number; reason: string } | { kind: 'error'; message: string };

/**
 * Opens a raw `ws` socket with the graphql-transport-ws protocol, runs
 * `onOpen` once it is open, and resolves with how it ended (or `{ kind: 'open' }`
 * after `openForMs` when it is still open then; the socket is closed).
 */
export function rawSocket(
  url: string,
  options: { headers?: Record<string, string>; origin?: string; onOpen?: (ws: WebSocket) => void; openForMs?: number } = {},
): Promise<RawOutcome | { kind: 'open'; messages: string[] }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { headers: options.headers, origin: options.origin });
    const messages: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    ws.on('unexpected-response', (_req, res) => {
      resolve({ kind: 'refused', status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      options.onOpen?.(ws);
      if (options.openForMs !== undefined) {
        timer = setTimeout(() => {
          resolve({ kind: 'open', messages });
          ws.close();
        }, options.openForMs);
      }
    });
    ws.on('message', (data) => messages.push(String(data)));
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ kind: 'closed', code, reason: reason.toString() });
    });
    ws.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) resolve({ kind: 'error', message: error.message });
    });
  });
}

/**
 * A non-lazy graphql-ws client without retries; `outcome` resolves with
 * `connected` once acknowledged, or with the close event if refused.
 */
export function wsClient(gateway: TestGateway, connectionParams?: Record<string, unknown>) {
  let settle: (value: { connected: true } | { connected: false; code: number; reason: string }) => void = () => {};
  const outcome = new Promise<{ connected: true } | { connected: false; code: number; reason: string }>((resolve) => (settle = resolve));
  const client: Client = createClient({
    url: wsUrl(gateway),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    on: {
      connected: () => settle({ connected: true }),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        settle({ connected: false, code, reason });
      },
    },
  });
  return { client, outcome };
}

/** Runs one operation on a graphql-ws client and resolves with everything it answered. */
export function runOnce(client: Client, query: string, variables?: Record<string, unknown>) {
  return new Promise<{ data: unknown[]; errors: any[] }>((resolve) => {
    const data: unknown[] = [];
    const errors: any[] = [];
    client.subscribe(
      { query, variables },
      {
        next: (value) => {
          if (value.data) data.push(value.data);
          if (value.errors) errors.push(...value.errors);
        },
        error: (error) => {
          errors.push(...(Array.isArray(error) ? error : [error]));
          resolve({ data, errors });
        },
        complete: () => resolve({ data, errors }),
      },
    );
  });
}

/** A valid createFirmwareUpgrade input for dock `sn`. */
export function firmwareUpgradeInput(sn: string) {
  return {
    gatewaySn: sn,
    devices: [
      {
        sn,
        productVersion: '10.01.3202',
        fileUrl: 'https://firmware.example.com/dock.bin',
        md5: 'e4d909c290d0fb1ca068ffaddf22cbd0',
        fileSize: 1024,
        fileName: 'dock.bin',
        firmwareUpgradeType: 'REGULAR',
      },
    ],
  };
}

export const CREATE_UPGRADE = `mutation StartUpgrade($input: CreateFirmwareUpgradeInput!) {
  createFirmwareUpgrade(input: $input) { id createdBy status }
}`;
