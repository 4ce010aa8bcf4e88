import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const ROOT = resolve(__dirname, '../../..');
const SERVER = join(ROOT, 'dist/src/server.js');

import { freePort } from '../../support/mosquitto';

/** A gateway running as its own process: `node dist/src/server.js`, configured by environment. */
export class GatewayProcess {
  private exited: Promise<number | null>;
  private clients: Client[] = [];
  exitCode: number | null | undefined = undefined;

  private constructor(
    readonly name: string,
    readonly url: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : code);
        done(code);
      }),
    );
  }

  /** Starts one; `env` is added to this process's environment. Its output goes to `logFile`. */
  static async start(name: string, logDir: string, env: Record<string, string>): Promise<GatewayProcess> {
    const port = await freePort();
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, `${name}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [SERVER], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    return new GatewayProcess(name, `http://127.0.0.1:${port}`, child, logFile);
  }

  /** The end of its output, for failure messages. */
  tail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Resolves once /readyz answers 200; rejects when the process exits first or after `timeoutMs`. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitCode !== undefined) throw new Error(`${this.name} exited (${this.exitCode}) before it was ready:\n${this.tail()}`);
      try {
        const response = await fetch(`${this.url}/readyz`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** POSTs a GraphQL operation. */
  async gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string }[] }> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: T; errors?: { message: string }[] };
  }

  /** A graphql-ws client on this process (disposed by `stop`). */
  ws(): Client {
    const client = createClient({
      url: `${this.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
    this.clients.push(client);
    return client;
  }

  /** The sum of a Prometheus metric's samples whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const found = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[4]);
    }
    return sum;
  }

  /** Sends `signal` and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.exitCode === undefined) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM (a clean shutdown), SIGKILL if it takes more than `graceMs`; closes its clients first. */
  async stop(graceMs = 12_000): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.dispose()));
    if (this.exitCode !== undefined) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }
}

/** A folder for the processes' logs of one run. */
export function logDirectory(run: string): string {
  return join(tmpdir(), `ota-services-${run}`);
}
