import { hostname } from 'node:os';
import { z } from 'zod';
import { type ApiToken, normaliseOrigin, parseApiTokens } from './server/auth';
import { DEFAULT_BROKER_LIMITS, type EmbeddedBrokerLimits } from './mqtt/broker-limits';
import { defaultClientId } from './mqtt/client-id';
import { type DatabaseLocation, parseDatabaseUrl } from './store/data-source';
import { maskSecrets } from './server/log-redaction';

/** Raised when the environment holds a bad value; its message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be 0..65535')
    .max(65535, 'must be 0..65535')
    .default(fallback);

const positiveInt = (fallback: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive').default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const mqttUrl = optionalString.refine((v) => v === undefined || /^(mqtts?|wss?|tcp|ssl):\/\//.test(v), {
  message: 'must be an mqtt://, mqtts://, ws:// or wss:// URL',
});

const redisUrl = optionalString.refine((v) => v === undefined || /^rediss?:\/\//.test(v), {
  message: 'must be a redis:// or rediss:// URL',
});

/** The environment variables the gateway reads, with their defaults (the README lists the same). */
const EnvSchema = z.object({
  NODE_ENV: z.string().default('production'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port(4000),
  DATABASE_URL: z.string().default('sqlite:./data/ota-gateway.sqlite'),
  MQTT_URL: mqttUrl,
  MQTT_HOST: z.string().min(1).default('0.0.0.0'),
  MQTT_PORT: port(1883),
  // Unset: `ota-gateway-<hostname>-<port>` (see defaultClientId).
  MQTT_CLIENT_ID: optionalString.refine((v) => v === undefined || v.length <= 64, { message: 'must be at most 64 characters' }),
  MQTT_USERNAME: optionalString,
  MQTT_PASSWORD: optionalString,
  // Set but empty: no shared subscription (one instance on an external broker, persistent session).
  MQTT_SHARED_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
    .default('ota-gateway')
    .transform((v) => (v === '' ? null : v)),
  MQTT_CLEAN_SESSION: bool(false),
  // MQTT 5 (MQTT_URL): how long the broker keeps a session whose connection ended without a clean stop.
  MQTT_SESSION_EXPIRY_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number')
    .min(0, 'must be 0..86400')
    .max(86400, 'must be 0..86400')
    .default(60),
  REDIS_URL: redisUrl,
  // Redis pub/sub ignores the database number: deployments sharing a server need distinct prefixes.
  REDIS_CHANNEL_PREFIX: z.string().regex(/^[\w:.-]*$/, 'letters, digits and _ : . - only').default('ota-gateway:'),
  API_TOKEN: z.string().optional(),
  // It travels in the callback URL: URL-safe characters only, so it needs no encoding there.
  WEBHOOK_TOKEN: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9._~-]{8,256}$/.test(v), {
    message: 'must be 8 to 256 URL-safe characters (letters, digits, . _ ~ -), e.g. from `openssl rand -hex 32`',
  }),
  TLS_CERT_FILE: optionalString,
  TLS_KEY_FILE: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRAPHQL_SANDBOX: bool(true),
  GRAPHQL_INTROSPECTION: bool(true),
  DJI_REPLY_TIMEOUT_MS: positiveInt(3000),
  DJI_SEND_ATTEMPTS: positiveInt(3),
  STALE_AFTER_MS: positiveInt(20 * 60 * 1000),
  LEDGER_RETENTION_DAYS: positiveInt(30),
  // V8's heap growing factor, 1 + this/100 (see server.ts); 0 leaves V8's own heuristics.
  HEAP_GROWING_PERCENT: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be 0..400')
    .max(400, 'must be 0..400')
    .default(60),
  // Checked by parseApiTokens (names, roles, length); set but blank is a mistake, not "no token".
  API_TOKENS: z.string().optional(),
  API_ALLOW_ANONYMOUS: bool(false),
  GRAPHQL_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const origins: string[] = [];
      for (const entry of (v ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
        const origin = entry === 'null' ? 'null' : normaliseOrigin(entry);
        if (origin === null) ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 60)}" is not an origin (scheme://host[:port])` });
        else origins.push(origin);
      }
      return origins;
    }),
  WEBHOOK_BODY_LIMIT: z.coerce
    .number({ error: 'must be a number of bytes' })
    .int('must be a whole number')
    .min(1024, 'must be at least 1024 bytes')
    .max(1024 * 1024, 'must be at most 1048576 (1 MiB)')
    .default(64 * 1024),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(30_000),
  // The embedded broker's security and limits (README "Security"); ignored with MQTT_URL.
  MQTT_PASSWORD_FILE: optionalString,
  MQTT_IDENTITY_FILE: optionalString,
  MQTT_ALLOW_ANONYMOUS: bool(false),
  MQTT_MAX_PACKET_SIZE: positiveInt(DEFAULT_BROKER_LIMITS.maxPacketBytes),
  MQTT_MAX_QUEUED_MESSAGES: positiveInt(DEFAULT_BROKER_LIMITS.maxQueuedMessages),
  MQTT_MAX_QUEUED_BYTES: positiveInt(DEFAULT_BROKER_LIMITS.maxQueuedBytes),
  MQTT_MAX_KEEPALIVE: positiveInt(DEFAULT_BROKER_LIMITS.maxKeepaliveSeconds).refine((v) => v <= 65535, 'must be at most 65535 (seconds)'),
  MQTT_MAX_CONNECTIONS: positiveInt(DEFAULT_BROKER_LIMITS.maxConnections),
  MQTT_MAX_CONNECTIONS_PER_ADDRESS: positiveInt(DEFAULT_BROKER_LIMITS.maxConnectionsPerAddress),
  MQTT_RETAINED_MAX_MESSAGES: positiveInt(DEFAULT_BROKER_LIMITS.maxRetainedMessages),
  MQTT_RETAINED_MAX_BYTES: positiveInt(DEFAULT_BROKER_LIMITS.maxRetainedBytes),
  MQTT_CONNECT_TIMEOUT_MS: positiveInt(DEFAULT_BROKER_LIMITS.connectTimeoutMs),
  ROLLOUT_TICK_MS: positiveInt(1000),
  ROLLOUT_RETRY_DELAY_MS: positiveInt(60_000),
  ROLLOUT_HUAWEI_WAVE_GRACE_MS: positiveInt(120_000),
  HUAWEI_API_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^/?#]+\/?$/.test(v), {
    message: 'must be the platform\'s base URL, e.g. https://iot.example.com:8743',
  }),
  HUAWEI_APP_ID: optionalString.refine((v) => v === undefined || v.length <= 256, { message: 'must be at most 256 characters' }),
  HUAWEI_SECRET: optionalString.refine((v) => v === undefined || v.length <= 1024, { message: 'must be at most 1024 characters' }),
  HUAWEI_CLIENT_CERT_FILE: optionalString,
  HUAWEI_CLIENT_KEY_FILE: optionalString,
  HUAWEI_CA_FILE: optionalString,
  HUAWEI_CALLBACK_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^/?#]+:\d+([/?#]|$)/.test(v), {
    message: 'must be an http(s) URL with an explicit port (the platform requires one), e.g. https://gw.example.com:443/v1.0.0/messageReceiver',
  }),
  HUAWEI_RECONCILE_INTERVAL_MS: positiveInt(300_000),
  HUAWEI_ALLOW_INSECURE_HTTP: bool(false),
  DJI_ANSWER_STATUS: bool(true),
});

/** Every environment variable the gateway reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

/** The gateway's configuration, validated. */
export interface Config {
  readonly env: string;
  readonly host: string;
  readonly port: number;
  readonly database: DatabaseLocation;
  /** Set: use that broker. Unset: start the embedded broker on `mqttHost:mqttPort`. */
  readonly mqttUrl: string | undefined;
  readonly mqttHost: string;
  readonly mqttPort: number;
  readonly mqttClientId: string;
  readonly mqttUsername: string | undefined;
  readonly mqttPassword: string | undefined;
  /** Start each MQTT connection with a clean session (see MqttConnection for the trade-off). */
  readonly mqttCleanSession: boolean;
  /** MQTT 5 (external broker): seconds the broker keeps the session of a connection that ended without a clean stop. */
  readonly mqttSessionExpirySeconds: number;
  /** With `mqttUrl`: the shared-subscription group; null when sharing is off. */
  readonly mqttSharedGroup: string | null;
  readonly redisUrl: string | undefined;
  readonly redisChannelPrefix: string;
  /** API_TOKEN as given (it is also in `apiTokens`, named `default`). */
  readonly apiToken: string | undefined;
  /** Every API token with its name and role (API_TOKENS and API_TOKEN); empty: anonymous access from this machine only. */
  readonly apiTokens: readonly ApiToken[];
  /** Without tokens, let anonymous callers in from anywhere, not only from loopback (an explicit, logged opt-in). */
  readonly apiAllowAnonymous: boolean;
  /** Browser origins allowed besides the server's own (HTTP and WebSocket). */
  readonly graphqlAllowedOrigins: readonly string[];
  /** Largest Huawei push body, in bytes. */
  readonly webhookBodyLimit: number;
  /** Longest an HTTP request (headers and body) may take to arrive. */
  readonly httpRequestTimeoutMs: number;
  readonly webhookToken: string | undefined;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly logLevel: string;
  readonly graphqlSandbox: boolean;
  readonly graphqlIntrospection: boolean;
  readonly djiReplyTimeoutMs: number;
  readonly djiSendAttempts: number;
  readonly staleAfterMs: number;
  readonly ledgerRetentionDays: number;
  /**
   * How far V8 lets the old generation grow past what its last full collection
   * left alive, in percent (0: V8's own heuristics, which allow 2 to 4 times).
   * Applied by the process entry point (server.ts), not by startGateway.
   */
  readonly heapGrowingPercent: number;
  /** The embedded broker (without `mqttUrl`): who may connect, and its bounds. */
  readonly mqttBroker: {
    /** Mosquitto password file; unset: clients connect without a password, on loopback only unless `allowAnonymous`. */
    readonly passwordFile: string | undefined;
    /** `username sn` lines for users whose dock sn is not their username. */
    readonly identityFile: string | undefined;
    /** Without a password file: listen on `mqttHost` anyway (an explicit, unsafe opt-in). */
    readonly allowAnonymous: boolean;
    readonly limits: EmbeddedBrokerLimits;
  };
  /** Answer docks' `update_topo` with `status_reply` (off where another cloud application on the broker does). */
  readonly djiAnswerStatus: boolean;
  /** How often the rollout engine looks at every active rollout without being woken. */
  readonly rolloutTickMs: number;
  /** How long a rollout target waits before it is sent again (after a busy answer or a spent attempt). */
  readonly rolloutRetryDelayMs: number;
  /** How long a Huawei wave may stay unanswered before the engine looks for its task on the platform (a crash, or an answer that left it unknown). */
  readonly rolloutHuaweiWaveGraceMs: number;
  /** The Huawei command side (northbound API); undefined when it is off. */
  readonly huawei: HuaweiConfig | undefined;
}

/** How the gateway reaches the Huawei northbound API (see the README's Configuration). */
export interface HuaweiConfig {
  readonly apiUrl: string;
  readonly appId: string;
  readonly secret: string;
  readonly clientCertFile: string | undefined;
  readonly clientKeyFile: string | undefined;
  readonly caFile: string | undefined;
  /** Registered for the four upgrade notifications at start; undefined: not registered by the gateway. */
  readonly callbackUrl: string | undefined;
  readonly reconcileIntervalMs: number;
  /** `HUAWEI_ALLOW_INSECURE_HTTP`: the API URL may be plain http (tests, a local simulator). */
  readonly allowInsecureHttp: boolean;
}

/**
 * Reads and validates the configuration from environment variables.
 * @throws {ConfigError} naming every bad variable and why.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      const value = env[name];
      const shown = value === undefined || /PASSWORD|TOKEN|SECRET|CALLBACK_URL/.test(name) ? '' : ` (got "${maskSecrets(value.slice(0, 60))}")`;
      problems.push(`${name} ${issue.message}${shown}`);
    }
  }
  let database: DatabaseLocation | undefined;
  try {
    database = parseDatabaseUrl(env.DATABASE_URL || 'sqlite:./data/ota-gateway.sqlite');
  } catch (error) {
    problems.push(maskSecrets((error as Error).message));
  }
  const blank = (v: string | undefined) => v !== undefined && v.trim() === '';
  const apiTokens = parseApiTokens(blank(env.API_TOKENS) ? undefined : env.API_TOKENS, env.API_TOKEN);
  if (blank(env.API_TOKENS)) problems.push('API_TOKENS is set but blank: unset it, or list <name>:<role>:<token> entries');
  problems.push(...apiTokens.problems);
  if (!env.TLS_CERT_FILE?.trim() !== !env.TLS_KEY_FILE?.trim()) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if (env.MQTT_IDENTITY_FILE?.trim() && !env.MQTT_PASSWORD_FILE?.trim()) {
    problems.push('MQTT_IDENTITY_FILE needs MQTT_PASSWORD_FILE (it maps the password file\'s usernames to dock sns)');
  }
  if (env.MQTT_PASSWORD_FILE?.trim() && parsed.success && parsed.data.MQTT_ALLOW_ANONYMOUS) {
    problems.push('MQTT_ALLOW_ANONYMOUS cannot be true with MQTT_PASSWORD_FILE: anonymous clients are always refused when a password file is set');
  }
  problems.push(...huaweiProblems(env));
  if (!parsed.success || problems.length > 0 || database === undefined) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    database,
    mqttUrl: e.MQTT_URL,
    mqttHost: e.MQTT_HOST,
    mqttPort: e.MQTT_PORT,
    mqttClientId: e.MQTT_CLIENT_ID ?? defaultClientId(hostname(), e.PORT),
    mqttUsername: e.MQTT_USERNAME,
    mqttPassword: e.MQTT_PASSWORD,
    mqttSharedGroup: e.MQTT_SHARED_GROUP,
    mqttCleanSession: e.MQTT_CLEAN_SESSION,
    mqttSessionExpirySeconds: e.MQTT_SESSION_EXPIRY_SECONDS,
    redisUrl: e.REDIS_URL,
    redisChannelPrefix: e.REDIS_CHANNEL_PREFIX,
    apiToken: e.API_TOKEN,
    apiTokens: apiTokens.tokens,
    apiAllowAnonymous: e.API_ALLOW_ANONYMOUS,
    graphqlAllowedOrigins: e.GRAPHQL_ALLOWED_ORIGINS,
    webhookBodyLimit: e.WEBHOOK_BODY_LIMIT,
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    webhookToken: e.WEBHOOK_TOKEN,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    logLevel: e.LOG_LEVEL,
    graphqlSandbox: e.GRAPHQL_SANDBOX,
    graphqlIntrospection: e.GRAPHQL_INTROSPECTION,
    djiReplyTimeoutMs: e.DJI_REPLY_TIMEOUT_MS,
    djiSendAttempts: e.DJI_SEND_ATTEMPTS,
    staleAfterMs: e.STALE_AFTER_MS,
    ledgerRetentionDays: e.LEDGER_RETENTION_DAYS,
    heapGrowingPercent: e.HEAP_GROWING_PERCENT,
    mqttBroker: {
      passwordFile: e.MQTT_PASSWORD_FILE,
      identityFile: e.MQTT_IDENTITY_FILE,
      allowAnonymous: e.MQTT_ALLOW_ANONYMOUS,
      limits: {
        maxPacketBytes: e.MQTT_MAX_PACKET_SIZE,
        maxQueuedMessages: e.MQTT_MAX_QUEUED_MESSAGES,
        maxQueuedBytes: e.MQTT_MAX_QUEUED_BYTES,
        maxKeepaliveSeconds: e.MQTT_MAX_KEEPALIVE,
        maxConnections: e.MQTT_MAX_CONNECTIONS,
        maxConnectionsPerAddress: e.MQTT_MAX_CONNECTIONS_PER_ADDRESS,
        maxRetainedMessages: e.MQTT_RETAINED_MAX_MESSAGES,
        maxRetainedBytes: e.MQTT_RETAINED_MAX_BYTES,
        connectTimeoutMs: e.MQTT_CONNECT_TIMEOUT_MS,
      },
    },
    rolloutTickMs: e.ROLLOUT_TICK_MS,
    rolloutRetryDelayMs: e.ROLLOUT_RETRY_DELAY_MS,
    rolloutHuaweiWaveGraceMs: e.ROLLOUT_HUAWEI_WAVE_GRACE_MS,
    huawei:
      e.HUAWEI_API_URL && e.HUAWEI_APP_ID && e.HUAWEI_SECRET
        ? {
            apiUrl: e.HUAWEI_API_URL.replace(/\/$/, ''),
            appId: e.HUAWEI_APP_ID,
            secret: e.HUAWEI_SECRET,
            clientCertFile: e.HUAWEI_CLIENT_CERT_FILE,
            clientKeyFile: e.HUAWEI_CLIENT_KEY_FILE,
            caFile: e.HUAWEI_CA_FILE,
            callbackUrl: e.HUAWEI_CALLBACK_URL,
            reconcileIntervalMs: e.HUAWEI_RECONCILE_INTERVAL_MS,
            allowInsecureHttp: e.HUAWEI_ALLOW_INSECURE_HTTP,
          }
        : undefined,
    djiAnswerStatus: e.DJI_ANSWER_STATUS,
  };
}

/** The configured secrets, which the logger masks wherever they appear (see createLogger). */
export function configSecrets(config: Config): string[] {
  const secrets = [...config.apiTokens.map((t) => t.token), config.webhookToken, config.mqttPassword, config.huawei?.secret];
  return secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
}

/** The rules across the HUAWEI_* variables: all of a set or none, https unless explicitly allowed. */
function huaweiProblems(env: NodeJS.ProcessEnv): string[] {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  const problems: string[] = [];
  const credentials = ['HUAWEI_API_URL', 'HUAWEI_APP_ID', 'HUAWEI_SECRET'];
  const given = credentials.filter(set);
  if (given.length > 0 && given.length < credentials.length) {
    problems.push(`${credentials.filter((n) => !set(n)).join(' and ')} must be set too: the Huawei command side needs ${credentials.join(', ')} together (${given.join(', ')} given)`);
  }
  const needsApi = ['HUAWEI_CLIENT_CERT_FILE', 'HUAWEI_CLIENT_KEY_FILE', 'HUAWEI_CA_FILE', 'HUAWEI_CALLBACK_URL'].filter(set);
  if (needsApi.length > 0 && given.length === 0) problems.push(`${needsApi.join(', ')} set without HUAWEI_API_URL, HUAWEI_APP_ID and HUAWEI_SECRET`);
  if (set('HUAWEI_CLIENT_CERT_FILE') !== set('HUAWEI_CLIENT_KEY_FILE')) problems.push('HUAWEI_CLIENT_CERT_FILE and HUAWEI_CLIENT_KEY_FILE must be set together');
  const insecure = ['true', '1', 'yes'].includes(env.HUAWEI_ALLOW_INSECURE_HTTP?.trim() ?? '');
  if (set('HUAWEI_API_URL') && /^http:/i.test(env.HUAWEI_API_URL!.trim()) && !insecure) {
    problems.push('HUAWEI_API_URL must be https:// (the secret and tokens travel on it); set HUAWEI_ALLOW_INSECURE_HTTP=true to allow http for a local simulator');
  }
  const webhookToken = env.WEBHOOK_TOKEN?.trim();
  if (set('HUAWEI_CALLBACK_URL') && webhookToken) {
    let carried: string | null = null;
    try {
      carried = new URL(env.HUAWEI_CALLBACK_URL!.trim()).searchParams.get('token');
    } catch {
      // Reported by the URL check above.
    }
    if (carried !== webhookToken) problems.push('HUAWEI_CALLBACK_URL must carry ?token=<WEBHOOK_TOKEN> (the callback refuses pushes without it)');
  }
  return problems;
}
