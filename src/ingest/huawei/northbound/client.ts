import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { type Clock, systemClock } from '../../../recorder/clock';
import type { StoredToken, TokenStore } from './token-store';
import { NORTHBOUND_PATHS, PlatformErrorSchema, TokenAnswerSchema, type TokenAnswer } from './protocol';

/** Where and how to reach the platform. */
export interface NorthboundClientOptions {
  /** `https://host:8743` (an `http://` URL only with `allowInsecureHttp`). */
  readonly baseUrl: string;
  readonly appId: string;
  /** Sent in the login and refresh bodies only; never logged. */
  readonly secret: string;
  /** PEM contents: the client certificate and key (mutual TLS) and the platform's CA. */
  readonly tls?: { readonly cert?: string | Buffer; readonly key?: string | Buffer; readonly ca?: string | Buffer };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Per HTTP exchange, connection included. @default 10000 */
  readonly timeoutMs?: number;
  /** Exchanges per call, the first included, on 5xx, 429 and connection errors. @default 4 */
  readonly maxAttempts?: number;
  /** First backoff; doubles per attempt, with jitter, capped at 30 s. @default 250 */
  readonly backoffMs?: number;
  /**
   * Where several instances share the token (PostgreSQL): renewals happen
   * under its lock, and an instance adopts a token another one obtained
   * rather than log in again. Absent: the token lives in this process only.
   */
  readonly tokenStore?: TokenStore;
}

/** What went wrong with a call, once retries are spent (or not allowed). */
export class NorthboundError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or null when no answer came (connection error, time-out). */
    readonly status: number | null,
    /** The platform's `error_code`, when it sent one. */
    readonly platformCode: string | null,
    /** The platform's `error_desc`, when it sent one. */
    readonly platformMessage: string | null,
  ) {
    super(message);
    this.name = 'NorthboundError';
  }
}

/** One call: method, path, body, and the schema its answer is parsed with (none: any 2xx will do). */
export interface NorthboundCall<T> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly json?: unknown;
  readonly schema?: z.ZodType<T>;
  /**
   * False for calls the platform must not receive twice (creating a task): then
   * only failures that prove it was not processed (connection refused, 429,
   * 503) are retried. @default true
   */
  readonly idempotent?: boolean;
}

type Token = StoredToken;

interface Exchange {
  readonly status: number;
  readonly body: string;
}

/** Answers at most this long are read; a longer one is an error. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** Connection errors after which the request surely never reached the platform. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The northbound API client: authentication, transport, retries.
 *
 * Tokens: only the most recently issued token of an app is valid, so this
 * client never has two logins (or refreshes) in flight: every caller that
 * needs a token while one is being obtained waits for that one. A token is
 * refreshed once four fifths of its lifetime have passed (at most 5 min before
 * it expires); a failed refresh falls back to a login. A call answered 401
 * gets a new token (the same single flight: concurrent 401s cause one login)
 * and is retried once.
 *
 * Secrets: the secret travels only in the login and refresh bodies and the
 * tokens only in headers; nothing here logs a body or a header.
 */
export class HuaweiNorthboundClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private token: Token | null = null;
  private obtaining: Promise<Token> | null = null;
  private closed = false;
  /** Wakers of the retries waiting out their backoff. */
  private readonly pauses = new Set<() => void>();

  /** Logins made by this client (for tests and metrics). */
  logins = 0;
  /** Refreshes made by this client. */
  refreshes = 0;

  constructor(private readonly options: NorthboundClientOptions) {
    this.base = new URL(options.baseUrl);
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.backoffMs = options.backoffMs ?? 250;
    const tls = options.tls ?? {};
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 16, cert: tls.cert, key: tls.key, ca: tls.ca })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Makes an authenticated call and parses its answer. @throws NorthboundError */
  async call<T = unknown>(call: NorthboundCall<T>): Promise<T> {
    let token = await this.currentToken();
    let exchange = await this.withRetries(call, token);
    if (exchange.status === 401) {
      this.options.logger.info({ path: pathOnly(call.path) }, 'northbound token refused (401); logging in again');
      token = await this.currentToken(token);
      exchange = await this.withRetries(call, token);
    }
    return this.parse(call, exchange);
  }

  /**
   * The token to use now: the current one, or one obtained (single flight).
   * With `refused` (a token the platform answered 401 to): a newer token if
   * another call already got one, else a fresh login.
   */
  async currentToken(refused?: Token): Promise<Token> {
    const token = this.token;
    if (token && token !== refused && this.clock.now().getTime() < token.refreshAt) return token;
    this.obtaining ??= this.obtain(refused ?? token, refused !== undefined).finally(() => (this.obtaining = null));
    return this.obtaining;
  }

  /** Closes idle connections; calls after this fail, and calls waiting to retry end now rather than holding the process. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
    for (const wake of [...this.pauses]) wake();
  }

  /** Waits `ms` before a retry; close() ends the wait (the retry then fails as closed). */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.pauses.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.pauses.add(wake);
    });
  }

  private async obtain(previous: Token | null, refused: boolean): Promise<Token> {
    const store = this.options.tokenStore;
    if (!store) return this.renew(previous, refused);
    return store.exclusive(async (stored, save) => {
      // Another instance renewed it meanwhile (or before this one started): use that one.
      if (stored && stored.accessToken !== previous?.accessToken && this.clock.now().getTime() < stored.refreshAt) {
        return (this.token = stored);
      }
      // The stored one is the one refused (or none): renew it. A refused token is not refreshed: log in.
      const token = await this.renew(stored ?? previous, refused && (stored === null || stored.accessToken === previous?.accessToken));
      await save(token);
      return token;
    });
  }

  /** Refreshes `previous` while it is valid, else (or when that fails, or `loginOnly`) logs in. */
  private async renew(previous: Token | null, loginOnly: boolean): Promise<Token> {
    const now = this.clock.now().getTime();
    if (!loginOnly && previous?.refreshToken && now < previous.expiresAt) {
      try {
        const answer = await this.authenticate(NORTHBOUND_PATHS.refreshToken, 'application/json', JSON.stringify({
          appId: this.options.appId,
          secret: this.options.secret,
          refreshToken: previous.refreshToken,
        }));
        this.refreshes += 1;
        return (this.token = this.tokenOf(answer));
      } catch (error) {
        this.options.logger.warn({ err: safeError(error) }, 'northbound token refresh failed; logging in');
      }
    }
    const form = new URLSearchParams({ appId: this.options.appId, secret: this.options.secret }).toString();
    const answer = await this.authenticate(NORTHBOUND_PATHS.login, 'application/x-www-form-urlencoded', form);
    this.logins += 1;
    this.options.logger.info({ appId: this.options.appId, expiresIn: answer.expiresIn }, 'logged in to the Huawei platform');
    return (this.token = this.tokenOf(answer));
  }

  private tokenOf(answer: TokenAnswer): Token {
    const now = this.clock.now().getTime();
    const lifetime = answer.expiresIn * 1000;
    const margin = Math.min(5 * 60_000, lifetime / 5);
    return { accessToken: answer.accessToken, refreshToken: answer.refreshToken ?? null, expiresAt: now + lifetime, refreshAt: now + lifetime - margin };
  }

  private async authenticate(path: string, contentType: string, body: string): Promise<TokenAnswer> {
    const call: NorthboundCall<TokenAnswer> = { method: 'POST', path, schema: TokenAnswerSchema };
    const exchange = await this.withRetries(call, null, { 'content-type': contentType, body });
    return this.parse(call, exchange);
  }

  private parse<T>(call: NorthboundCall<T>, exchange: Exchange): T {
    const path = pathOnly(call.path);
    if (exchange.status < 200 || exchange.status >= 300) {
      const platform = platformErrorOf(exchange.body);
      throw new NorthboundError(
        `${call.method} ${path} answered ${exchange.status}${platform ? ` (${platform.code}: ${platform.desc ?? ''})` : ''}`,
        exchange.status,
        platform?.code ?? null,
        platform?.desc ?? null,
      );
    }
    if (!call.schema) return undefined as T;
    let json: unknown;
    try {
      json = exchange.body === '' ? {} : JSON.parse(exchange.body);
    } catch {
      throw new NorthboundError(`${call.method} ${path}: the answer is not JSON`, exchange.status, null, null);
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      // Only field paths and messages: the answer may hold tokens.
      const fields = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ');
      throw new NorthboundError(`${call.method} ${path}: unexpected answer (${fields})`, exchange.status, null, null);
    }
    return parsed.data;
  }

  /** One call with retries on 5xx, 429 and connection errors; 401 and other answers are returned. */
  private async withRetries(call: NorthboundCall<unknown>, token: Token | null, auth?: { 'content-type': string; body: string }): Promise<Exchange> {
    const idempotent = call.idempotent ?? true;
    for (let attempt = 1; ; attempt += 1) {
      let retryable: boolean;
      let failure: unknown;
      try {
        const exchange = await this.exchange(call, token, auth);
        const transient = exchange.status === 429 || exchange.status >= 500;
        if (!transient) return exchange;
        retryable = idempotent || exchange.status === 429 || exchange.status === 503;
        if (!retryable || attempt >= this.maxAttempts) return exchange;
        failure = `status ${exchange.status}`;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        retryable = !this.closed && (idempotent || NOT_SENT_CODES.has(code));
        if (!retryable || attempt >= this.maxAttempts) {
          throw new NorthboundError(`${call.method} ${pathOnly(call.path)} failed: ${(error as Error).message}`, null, null, null);
        }
        failure = code || (error as Error).message;
      }
      const delay = Math.min(30_000, this.backoffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      this.options.logger.warn({ path: pathOnly(call.path), attempt, failure, retryInMs: Math.round(delay) }, 'northbound call failed; retrying');
      await this.pause(delay);
    }
  }

  /** One HTTP exchange, bounded by the time-out. */
  private exchange(call: NorthboundCall<unknown>, token: Token | null, auth?: { 'content-type': string; body: string }): Promise<Exchange> {
    if (this.closed) return Promise.reject(new Error('client closed'));
    const url = new URL(call.path, this.base);
    const headers: Record<string, string> = { accept: 'application/json', app_key: this.options.appId };
    let body: string | undefined;
    if (auth) {
      headers['content-type'] = auth['content-type'];
      body = auth.body;
    } else if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    }
    if (token) headers.authorization = `Bearer ${token.accessToken}`;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<Exchange>((resolve, reject) => {
      const request = send(url, { method: call.method, headers, agent: this.agent, timeout: this.timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) request.destroy(new Error(`answer over ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      // The whole exchange, not only idle time, is bounded.
      const timer = setTimeout(() => request.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })), this.timeoutMs);
      request.on('close', () => clearTimeout(timer));
      request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** The path without its query (query values are not secret, but need not be logged either). */
function pathOnly(path: string): string {
  return path.split('?')[0];
}

/** The platform's error body, when the answer is one. */
function platformErrorOf(body: string): { code: string; desc: string | null } | null {
  try {
    const parsed = PlatformErrorSchema.safeParse(JSON.parse(body));
    return parsed.success ? { code: parsed.data.error_code, desc: parsed.data.error_desc ?? null } : null;
  } catch {
    return null;
  }
}

/** An error as logged: its message and name only (no request or answer attached). */
export function safeError(error: unknown): { type: string; message: string } {
  return error instanceof Error ? { type: error.name, message: error.message } : { type: typeof error, message: String(error) };
}
