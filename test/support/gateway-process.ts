import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { freePort } from './mosquitto';

/** The compiled server the fault tests start, as a user would (`npm start`). */
export const SERVER_JS = join(__dirname, '..', '..', 'dist', 'src', 'server.js');

/** A gateway running as its own process. */
export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stdout and stderr (pino JSON lines), across its life. */
  output(): string;
}

/** Options of {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  /** The folder of its SQLite file (`gateway.sqlite`) and its log (`gateway-<n>.log`). */
  readonly dir: string;
  /** MQTT_URL: the test's own broker. */
  readonly mqttUrl: string;
  /** Stable across restarts of "the same" gateway: the broker keeps its session. */
  readonly clientId: string;
  /** @default a free port */
  readonly port?: number;
  /** More environment (STALE_AFTER_MS, LOG_LEVEL, …). */
  readonly env?: Record<string, string>;
  /** Wait for /readyz 200 before resolving. @default true */
  readonly waitReady?: boolean;
}

let launches = 0;

/**
 * Starts `node dist/src/server.js` with its database in `dir` and MQTT_URL
 * pointing at the test's broker, and waits until it is ready. Output goes to a
 * file in `dir` (so a killed process loses nothing of it).
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  if (!existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} missing: run npm run build first`);
  const port = options.port ?? (await freePort());
  const logFile = join(options.dir, `gateway-${++launches}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [SERVER_JS], {
    cwd: options.dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      MQTT_URL: options.mqttUrl,
      MQTT_CLIENT_ID: options.clientId,
      DATABASE_URL: `sqlite:${join(options.dir, 'gateway.sqlite')}`,
      LOG_LEVEL: 'info',
      GRAPHQL_SANDBOX: 'false',
      ...options.env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const gateway: GatewayProcess = { url, port, child, exited, output: () => readFileSync(logFile, 'utf8') };
  if (options.waitReady !== false) {
    const deadline = Date.now() + 20_000;
    let done = false;
    void exited.then(() => (done = true));
    for (;;) {
      const status = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
      if (status === 200) break;
      if (done) throw new Error(`gateway exited before it was ready:\n${gateway.output().slice(-3000)}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`gateway not ready after 20 s:\n${gateway.output().slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
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
