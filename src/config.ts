import { z } from 'zod';
import { type DatabaseLocation, parseDatabaseUrl } from './store/data-source';

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
  MQTT_CLIENT_ID: z.string().min(1).max(64).default('ota-gateway'),
  MQTT_USERNAME: optionalString,
  MQTT_PASSWORD: optionalString,
  // Set but empty: no shared subscription (one instance on an external broker, persistent session).
  MQTT_SHARED_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
    .default('ota-gateway')
    .transform((v) => (v === '' ? null : v)),
  MQTT_CLEAN_SESSION: bool(false),
  REDIS_URL: redisUrl,
  // Redis pub/sub ignores the database number: deployments sharing a server need distinct prefixes.
  REDIS_CHANNEL_PREFIX: z.string().regex(/^[\w:.-]*$/, 'letters, digits and _ : . - only').default('ota-gateway:'),
  API_TOKEN: optionalString,
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
  DJI_ANSWER_STATUS: bool(true),
  ROLLOUT_TICK_MS: positiveInt(1000),
  ROLLOUT_RETRY_DELAY_MS: positiveInt(60_000),
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
  /** With `mqttUrl`: the shared-subscription group; null when sharing is off. */
  readonly mqttSharedGroup: string | null;
  readonly redisUrl: string | undefined;
  readonly redisChannelPrefix: string;
  readonly apiToken: string | undefined;
  readonly webhookToken: string | undefined;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly logLevel: string;
  readonly graphqlSandbox: boolean;
  readonly graphqlIntrospection: boolean;
  readonly djiReplyTimeoutMs: number;
  readonly djiSendAttempts: number;
  readonly staleAfterMs: number;
  readonly ledgerRetentionDays: number;
  /** Answer docks' `update_topo` with `status_reply` (off where another cloud application on the broker does). */
  readonly djiAnswerStatus: boolean;
  /** How often the rollout engine looks at every active rollout without being woken. */
  readonly rolloutTickMs: number;
  /** How long a rollout target waits before it is sent again (after a busy answer or a spent attempt). */
  readonly rolloutRetryDelayMs: number;
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
      const shown = value === undefined || /PASSWORD|TOKEN/.test(name) ? '' : ` (got "${value.slice(0, 60)}")`;
      problems.push(`${name} ${issue.message}${shown}`);
    }
  }
  let database: DatabaseLocation | undefined;
  try {
    database = parseDatabaseUrl(env.DATABASE_URL || 'sqlite:./data/ota-gateway.sqlite');
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (!env.TLS_CERT_FILE?.trim() !== !env.TLS_KEY_FILE?.trim()) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
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
    mqttClientId: e.MQTT_CLIENT_ID,
    mqttUsername: e.MQTT_USERNAME,
    mqttPassword: e.MQTT_PASSWORD,
    mqttSharedGroup: e.MQTT_SHARED_GROUP,
    mqttCleanSession: e.MQTT_CLEAN_SESSION,
    redisUrl: e.REDIS_URL,
    redisChannelPrefix: e.REDIS_CHANNEL_PREFIX,
    apiToken: e.API_TOKEN,
    webhookToken: e.WEBHOOK_TOKEN,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    logLevel: e.LOG_LEVEL,
    graphqlSandbox: e.GRAPHQL_SANDBOX,
    graphqlIntrospection: e.GRAPHQL_INTROSPECTION,
    djiReplyTimeoutMs: e.DJI_REPLY_TIMEOUT_MS,
    djiSendAttempts: e.DJI_SEND_ATTEMPTS,
    staleAfterMs: e.STALE_AFTER_MS,
    ledgerRetentionDays: e.LEDGER_RETENTION_DAYS,
    djiAnswerStatus: e.DJI_ANSWER_STATUS,
    rolloutTickMs: e.ROLLOUT_TICK_MS,
    rolloutRetryDelayMs: e.ROLLOUT_RETRY_DELAY_MS,
  };
}
