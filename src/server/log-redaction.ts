import pino, { type DestinationStream, type Logger } from 'pino';

/*
 * Secrets never reach a log line. Two kinds can: credentials inside URLs
 * (MQTT_URL, DATABASE_URL, REDIS_URL, in startup messages and driver errors)
 * and secrets in query strings (the Huawei callback's `?token=`, in request
 * logs and 404s). The gateway's logger masks both in every line it writes,
 * after serialisation, so no field, child logger or error message escapes it.
 */

/** What replaces a secret. */
export const MASK = '***';

/** Query keys whose values are secrets, compared after decoding, without `[…]` suffixes, in any case. */
const SECRET_KEY = /^(token|access[_-]?token|api[_-]?key|password|passwd|secret|auth)$/;

/** `scheme://user:password@` (the password may be empty; `@` inside it must be percent-encoded, as URLs require). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@"'<>:?#]*):([^\s/@"'<>]*)@/gi;

/** One `key=value` of a query string (after `?`, `&` or `;`). */
const QUERY_PAIR = /([?&;])([^=&;#\s"'<>?]+)=([^&;#\s"'<>]*)/g;

/** Decodes percent-escapes (`%74oken` → `token`) and `+`, leaving malformed ones as they are. */
function decodeKey(key: string): string {
  let decoded = key.replace(/\+/g, ' ');
  // Twice: `%2574oken` is `%74oken` once decoded, which some servers decode again.
  for (let i = 0; i < 2; i++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      decoded = decoded.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  }
  return decoded;
}

/** True when a query key names a secret: `token`, `%74oken`, `TOKEN`, `token[]`, `token[0]`, `api_key`, … */
export function isSecretKey(key: string): boolean {
  const name = decodeKey(key).trim().toLowerCase().replace(/\[[^\]]*\]/g, '');
  return SECRET_KEY.test(name);
}

/** Masks the values of secret query parameters in a URL or in any text holding one. */
export function maskQuerySecrets(text: string): string {
  if (!text.includes('=')) return text;
  return text.replace(QUERY_PAIR, (whole, sep: string, key: string) => (isSecretKey(key) ? `${sep}${key}=${MASK}` : whole));
}

/** Masks the password of every `scheme://user:password@host` in a text. */
export function maskUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_CREDENTIALS, (_whole, scheme: string, user: string) => `${scheme}${user}:${MASK}@`);
}

/** Both of the above: what every log line and every startup message goes through. */
export function maskSecrets(text: string): string {
  return maskQuerySecrets(maskUrlCredentials(text));
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level: string;
  /** Exact secrets (API tokens, passwords) to mask wherever they appear, whatever the field. */
  readonly secrets?: readonly string[];
}

/**
 * The gateway's logger: pino, with every line passed through
 * {@link maskSecrets} and the configured secrets masked verbatim (and
 * percent-encoded) just before it is written. `destination` is stdout unless
 * given (tests capture it).
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const exact = [...new Set((options.secrets ?? []).filter((s) => s.length >= 4))].flatMap((s) => {
    const encoded = encodeURIComponent(s);
    return encoded === s ? [s] : [s, encoded];
  });
  const streamWrite = (line: string): string => {
    let masked = maskSecrets(line);
    for (const secret of exact) if (masked.includes(secret)) masked = masked.split(secret).join(MASK);
    return masked;
  };
  return pino({ level: options.level, name: 'ota-gateway', hooks: { streamWrite } }, destination ?? pino.destination(1));
}
