import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import sqlite3 from 'sqlite3';
import WebSocket from 'ws';
import { freePort } from './mosquitto';

/** The compiled server the process tests start, as a user would (`npm start`). */
export const SERVER_JS = join(__dirname, '..', '..', 'dist', 'src', 'server.js');

/** How a gateway process ended: the exit code (null when killed by a signal) and the signal. */
export interface GatewayExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A gateway running as its own process. */
export interface GatewayProcess {
  /** Names its log file (`<name>.log`) and it in failure messages. */
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Where its stdout and stderr go, written by the process itself (a SIGKILL loses nothing of it). */
  readonly logFile: string;
  /** Resolves once it has exited. */
  readonly exited: Promise<GatewayExit>;
  /** Everything it wrote to stdout and stderr (pino JSON lines), across its life. */
  output(): string;
  /** The last `lines` of its output, for failure messages; never throws. @default 40 */
  tail(lines?: number): string;
  /**
   * Resolves once /readyz answers 200; when it exits first, or is not ready
   * within `timeoutMs` (then it is killed), rejects with the end of its output.
   * For processes started with `waitReady: false`. @default timeoutMs 20 000
   */
  waitReady(timeoutMs?: number): Promise<void>;
  /** POSTs a GraphQL operation to /graphql and returns the parsed body. */
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string }[] }>;
  /** A lazy graphql-ws client on it, without retries (a lost connection is an error); disposed by `stop`. */
  ws(): Client;
  /** The sum of a /metrics (Prometheus) metric's samples whose labels include `labels`: a counter across all its other labels. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Sends `signal` (unless it has exited already) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<GatewayExit>;
  /**
   * Disposes its graphql-ws clients, then SIGTERM (a clean shutdown) and
   * SIGKILL if that takes more than `graceMs`, so a hung shutdown cannot hang
   * the suite's cleanup. @default graceMs 12 000
   */
  stop(graceMs?: number): Promise<GatewayExit>;
}

/** Options of {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  /**
   * Its working folder, created if missing: its log goes there, and so does
   * its SQLite file (`gateway.sqlite`) unless `env` sets DATABASE_URL.
   */
  readonly dir: string;
  /**
   * MQTT_URL: the test's own broker. Null: the gateway starts its embedded
   * broker (then set MQTT_HOST and a free MQTT_PORT in `env`).
   */
  readonly mqttUrl: string | null;
  /** MQTT_CLIENT_ID. Stable across restarts of "the same" gateway: the broker keeps its session. */
  readonly clientId: string;
  /** @default `gateway-<n>`, n counting the launches of this test file */
  readonly name?: string;
  /** @default a free port */
  readonly port?: number;
  /**
   * More environment, over the defaults (DATABASE_URL, REDIS_URL,
   * MQTT_SHARED_GROUP, STALE_AFTER_MS, LOG_LEVEL, …). Nothing else of the
   * test's own environment reaches the gateway but PATH, so a variable set in
   * the developer's shell cannot change what a test sees.
   */
  readonly env?: Record<string, string>;
  /**
   * Wait for /readyz 200 before resolving. False for processes started
   * together: each is in hand, to be stopped, even if another never gets ready.
   * @default true
   */
  readonly waitReady?: boolean;
}

let launches = 0;

/**
 * Starts `node dist/src/server.js` configured by environment only (HTTP on
 * 127.0.0.1, the test's broker, a SQLite file in `dir` unless `env` names
 * another database) and, unless told not to, waits until it is ready. Output
 * goes to a file in `dir` (so a killed process loses nothing of it).
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  if (!existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} missing: run npm run build first`);
  const name = options.name ?? `gateway-${++launches}`;
  const port = options.port ?? (await freePort());
  mkdirSync(options.dir, { recursive: true });
  const logFile = join(options.dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [SERVER_JS], {
    cwd: options.dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...(options.mqttUrl !== null ? { MQTT_URL: options.mqttUrl } : {}),
      MQTT_CLIENT_ID: options.clientId,
      DATABASE_URL: `sqlite:${join(options.dir, 'gateway.sqlite')}`,
      LOG_LEVEL: 'info',
      GRAPHQL_SANDBOX: 'false',
      ...options.env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<GatewayExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  const output = () => readFileSync(logFile, 'utf8');
  const tail = (lines = 40) => {
    try {
      return output().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const kill = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const gateway: GatewayProcess = {
    name,
    url,
    port,
    child,
    logFile,
    exited,
    output,
    tail,
    async waitReady(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let exit: GatewayExit | undefined;
      void exited.then((e) => (exit = e));
      for (;;) {
        const status = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
        if (status === 200) return;
        if (exit) throw new Error(`${name} exited (${exit.code ?? exit.signal}) before it was ready:\n${tail()}`);
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`${name} not ready after ${timeoutMs} ms:\n${tail()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async gql(query, variables) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: any; errors?: { message: string }[] };
    },
    ws() {
      const client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    },
    async metric(metricName, labels = {}) {
      const text = await (await fetch(`${url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
        if (!match || match[1] !== metricName) continue;
        const found = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
        if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[4]);
      }
      return sum;
    },
    kill,
    async stop(graceMs = 12_000) {
      await Promise.all(clients.splice(0).map((c) => c.dispose()));
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await kill('SIGTERM');
      } finally {
        clearTimeout(timer);
      }
    },
  };
  if (options.waitReady !== false) await gateway.waitReady();
  return gateway;
}

/** Where {@link report} appends: `FAULTS_SUMMARY`, or a file in the temp folder. */
export const FAULTS_SUMMARY = process.env.FAULTS_SUMMARY || join(tmpdir(), 'ota-gateway-faults-summary.jsonl');

/**
 * Prints a fault test's figures (sent, recorded, duplicates, lost, …) on one
 * line and appends them to {@link FAULTS_SUMMARY} as JSON.
 */
export function report(name: string, figures: Record<string, number | string | boolean>): void {
  const line = Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`[faults] ${name}: ${line}`);
  appendFileSync(FAULTS_SUMMARY, `${JSON.stringify({ test: name, at: new Date().toISOString(), ...figures })}\n`);
}

/**
 * Runs one read-only query on a gateway's SQLite file, on a connection of its
 * own (WAL: it never blocks the gateway's writer), and closes it.
 */
export async function querySqlite<T = Record<string, unknown>>(path: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened: sqlite3.Database = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (error) => (error ? reject(error) : resolve(opened)));
  });
  try {
    await new Promise<void>((resolve, reject) => db.run('PRAGMA busy_timeout = 5000', (error) => (error ? reject(error) : resolve())));
    return await new Promise<T[]>((resolve, reject) => db.all(sql, params, (error, rows) => (error ? reject(error) : resolve(rows as T[]))));
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}
