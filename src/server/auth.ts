import { isIP } from 'node:net';
import { secretMatches } from './tokens';

/*
 * Who is calling the GraphQL API, and what they may do. Both transports (HTTP
 * and graphql-ws) authenticate through one ApiAuth, so a rule can never hold
 * on one path and not on the other.
 */

/** What a token may do: viewers query and subscribe, operators also mutate. */
export enum Role {
  VIEWER = 'viewer',
  OPERATOR = 'operator',
}

/** The caller of an operation, as resolvers see it (`context.principal`). */
export interface Principal {
  /** The token's name from API_TOKENS (`default` for API_TOKEN, `anonymous` without tokens). Recorded as `createdBy`. */
  readonly name: string;
  readonly role: Role;
  /** True when no token is configured and the caller was let in without one (see ApiAuth). */
  readonly anonymous: boolean;
}

/** One configured API token. */
export interface ApiToken {
  readonly name: string;
  readonly role: Role;
  readonly token: string;
}

/** Shortest token accepted at start. */
export const MIN_TOKEN_LENGTH = 16;

/** The name API_TOKEN's token gets. */
export const DEFAULT_TOKEN_NAME = 'default';

/** The principal of callers let in without a token (no token configured). */
export const ANONYMOUS: Principal = Object.freeze({ name: 'anonymous', role: Role.OPERATOR, anonymous: true });

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses API_TOKENS (`<name>:<role>:<token>` entries, comma-separated) and
 * API_TOKEN (one operator token named `default`). Returns the tokens and every
 * problem found, each naming the variable and the entry but never the token.
 */
export function parseApiTokens(list: string | undefined, single: string | undefined): { tokens: ApiToken[]; problems: string[] } {
  const tokens: ApiToken[] = [];
  const problems: string[] = [];
  const checkToken = (where: string, token: string): boolean => {
    if (token.trim() === '') {
      problems.push(`${where}: the token is blank`);
      return false;
    }
    if (/\s/.test(token)) {
      problems.push(`${where}: the token contains white space`);
      return false;
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      problems.push(`${where}: the token is shorter than ${MIN_TOKEN_LENGTH} characters (use e.g. \`openssl rand -hex 32\`)`);
      return false;
    }
    return true;
  };
  if (single !== undefined) {
    if (checkToken('API_TOKEN', single)) tokens.push({ name: DEFAULT_TOKEN_NAME, role: Role.OPERATOR, token: single });
  }
  if (list !== undefined) {
    const entries = list.split(',').map((e) => e.trim());
    entries.forEach((entry, index) => {
      const where = `API_TOKENS entry ${index + 1}`;
      if (entry === '') {
        problems.push(`${where} is empty`);
        return;
      }
      const first = entry.indexOf(':');
      const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
      if (second < 0) {
        problems.push(`${where} must be <name>:<role>:<token>`);
        return;
      }
      const name = entry.slice(0, first);
      const role = entry.slice(first + 1, second).toLowerCase();
      const token = entry.slice(second + 1);
      if (!NAME.test(name)) {
        problems.push(`${where}: the name must be 1 to 64 letters, digits, . _ or -`);
        return;
      }
      if (role !== Role.VIEWER && role !== Role.OPERATOR) {
        problems.push(`${where} (${name}): the role must be viewer or operator`);
        return;
      }
      if (!checkToken(`${where} (${name})`, token)) return;
      tokens.push({ name, role: role as Role, token });
    });
  }
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const { name, token } of tokens) {
    if (names.has(name)) problems.push(`API_TOKENS: the name "${name}" is used twice${name === DEFAULT_TOKEN_NAME ? ' (API_TOKEN is named default)' : ''}`);
    if (secrets.has(token)) problems.push(`API_TOKENS: "${name}" has the same token as another entry`);
    names.add(name);
    secrets.add(token);
  }
  return { tokens, problems };
}

/** What a caller presented and where from. */
export interface Credentials {
  /** The token as sent: `Bearer <token>` in any case, or the bare token. */
  readonly presented: string | undefined;
  /** The peer address of the connection. */
  readonly remoteAddress: string | undefined;
  /** The Host header, for anonymous callers (see ApiAuth). */
  readonly host: string | undefined;
}

/** An authentication outcome; refusals carry a reason safe to show (never the token). */
export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

/**
 * Authenticates callers of the GraphQL API.
 *
 * With tokens configured, every operation needs one of them. With none (a
 * fresh `npm start`), the API is open to this machine only: callers on a
 * loopback address, naming the server by `localhost` or an IP address (a
 * page on another domain that resolves to 127.0.0.1, DNS rebinding, names its
 * own domain), get the {@link ANONYMOUS} operator; anyone else is refused
 * unless `allowAnonymous` (API_ALLOW_ANONYMOUS=true) opens it to all. Browsers
 * on other origins are kept out separately, by {@link originAllowed}.
 */
export class ApiAuth {
  constructor(
    readonly tokens: readonly ApiToken[],
    private readonly options: { readonly allowAnonymous: boolean } = { allowAnonymous: false },
  ) {}

  /** True when a token is needed (some are configured). */
  get required(): boolean {
    return this.tokens.length > 0;
  }

  /** True when anyone anywhere gets in without a token (no tokens and API_ALLOW_ANONYMOUS=true). */
  get openToAll(): boolean {
    return !this.required && this.options.allowAnonymous;
  }

  authenticate({ presented, remoteAddress, host }: Credentials): AuthResult {
    if (!this.required) {
      if (this.options.allowAnonymous || (isLoopback(remoteAddress) && isLocalHostName(host))) return { ok: true, principal: ANONYMOUS };
      return {
        ok: false,
        status: 403,
        reason: 'No API token is configured: only this machine (localhost) may use the API. Set API_TOKENS on the gateway.',
      };
    }
    const token = bearerToken(presented);
    if (token === undefined) {
      return { ok: false, status: 401, reason: 'Missing API token: send Authorization: Bearer <token>' };
    }
    // Every entry is compared, so the time taken does not tell which one (or whether any) matched.
    let match: ApiToken | undefined;
    for (const entry of this.tokens) {
      if (secretMatches(token, entry.token) && match === undefined) match = entry;
    }
    if (match === undefined) return { ok: false, status: 401, reason: 'Wrong API token' };
    return { ok: true, principal: { name: match.name, role: match.role, anonymous: false } };
  }
}

/** The token of an Authorization value: `Bearer <token>` (any case) or the bare token. */
export function bearerToken(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  const match = /^bearer\s+(\S+)$/i.exec(trimmed);
  const token = match ? match[1] : trimmed;
  return token === '' || /\s/.test(token) ? undefined : token;
}

/**
 * The token value a graphql-ws `connection_init` payload carries, in the
 * spellings clients use: `authorization` in any letter case, at the top or
 * under `headers` (what Apollo's and urql's examples send), or a `token` /
 * `authToken` key.
 */
export function connectionParamsToken(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params || typeof params !== 'object') return undefined;
  const pick = (object: unknown): string | undefined => {
    if (!object || typeof object !== 'object' || Array.isArray(object)) return undefined;
    for (const [key, value] of Object.entries(object)) {
      if (typeof value === 'string' && ['authorization', 'token', 'authtoken', 'apitoken'].includes(key.toLowerCase())) return value;
    }
    return undefined;
  };
  return pick(params) ?? pick(Object.entries(params).find(([key]) => key.toLowerCase() === 'headers')?.[1]);
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || (isIP(plain) === 4 && plain.startsWith('127.'));
}

/** True when a Host header names this machine by `localhost` or by an address, never by a domain. */
function isLocalHostName(host: string | undefined): boolean {
  if (!host) return true; // HTTP/1.0 without Host: not a browser
  const name = hostName(host);
  return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0;
}

/** The host name of a Host header or URL host (`[::1]:4000` → `::1`), lower case. */
function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) return lower.slice(1, lower.indexOf(']') > 0 ? lower.indexOf(']') : undefined);
  const colon = lower.lastIndexOf(':');
  return colon > 0 && lower.indexOf(':') === colon ? lower.slice(0, colon) : lower;
}

/** Normalises an origin (`HTTPS://Example.com:443/` → `https://example.com`); null when it is not one. */
export function normaliseOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/**
 * Whether a request's `Origin` may use the API: no Origin (not a browser, or
 * a same-origin GET), the server's own origin (same host as the Host header),
 * or one of `allowed` (GRAPHQL_ALLOWED_ORIGINS). `Origin: null` (sandboxed
 * frames, files) is refused unless listed as `null`.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (origin === 'null') return allowed.includes('null');
  const normal = normaliseOrigin(origin);
  if (normal === null) return false;
  if (allowed.includes(normal)) return true;
  if (host === undefined) return false;
  const own = new URL(normal);
  try {
    // Read with the origin's scheme, so that `example.com:80` and `http://example.com` agree.
    return new URL(`${own.protocol}//${host.trim()}`).host === own.host;
  } catch {
    return false;
  }
}
