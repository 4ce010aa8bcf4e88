import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';

/** The little of node-postgres the tests use (the package ships no types and @types/pg is not installed). */
export interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client: PgClient } = require('pg') as {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient;
};

/**
 * Where the services are. `TEST_DATABASE_URL` names a PostgreSQL server and a
 * database to connect to for `CREATE DATABASE` (its user needs CREATEDB);
 * every suite works in a database of its own, created and dropped here.
 */
export const SERVICE_URLS = {
  postgres: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  redis: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
  mqtt: process.env.TEST_MQTT_URL || 'mqtt://127.0.0.1:1883',
} as const;

export type Service = keyof typeof SERVICE_URLS;
export const SERVICES = Object.keys(SERVICE_URLS) as Service[];

/** The environment variable the global setup leaves its probe results in (service → null or why unreachable). */
export const AVAILABILITY_ENV = 'OTA_TEST_SERVICE_AVAILABILITY';

const PROBE_TIMEOUT_MS = 3000;

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Null when the service answers; otherwise why not. */
export async function probe(service: Service): Promise<string | null> {
  const url = SERVICE_URLS[service];
  try {
    if (service === 'postgres') {
      const client = new PgClient({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    } else if (service === 'redis') {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: PROBE_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    } else {
      await new Promise<void>((resolve, reject) => {
        const client = mqtt.connect(url, {
          clientId: `ota-probe-${randomBytes(4).toString('hex')}`,
          clean: true,
          connectTimeout: PROBE_TIMEOUT_MS,
          reconnectPeriod: 0,
        });
        const timer = setTimeout(() => done(new Error(`no CONNACK within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
        const done = (error?: Error) => {
          clearTimeout(timer);
          client.end(true);
          if (error) reject(error);
          else resolve();
        };
        client.once('connect', () => done());
        client.once('error', (error) => done(error));
        client.once('close', () => done(new Error('connection closed')));
      });
    }
    return null;
  } catch (error) {
    return `${service} at ${redactUrl(url)} unreachable: ${(error as Error).message || String(error)}`;
  }
}

/** What the global setup found; an absent entry (setup not run) counts as available, so failures are loud. */
export function unavailable(services: readonly Service[]): string[] {
  const found: Partial<Record<Service, string | null>> = JSON.parse(process.env[AVAILABILITY_ENV] ?? '{}');
  return services.map((s) => found[s]).filter((reason): reason is string => typeof reason === 'string');
}

/**
 * `describe` when every named service answered in the global setup, otherwise
 * `describe.skip` (the global setup already failed the run under CI=true).
 */
export function describeWith(services: readonly Service[]): jest.Describe {
  const missing = unavailable(services);
  if (missing.length === 0) return describe;
  const skip = ((name: string, fn: jest.EmptyFunction) =>
    describe.skip(`${name} [skipped: ${missing.join('; ')}]`, fn)) as unknown as jest.Describe;
  return skip;
}

/** A database of one suite's own on the test PostgreSQL server. */
export interface TestDatabase {
  readonly name: string;
  /** DATABASE_URL for the gateway. */
  readonly url: string;
  /** Runs one statement in this database on a fresh connection. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A connection of the test's own, to hold transactions and locks (the caller ends it). */
  connect(): Promise<PgClient>;
  /** Drops the database, disconnecting whoever still uses it. */
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new PgClient({ connectionString: SERVICE_URLS.postgres, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `ota_test_<random>` (empty: the gateway's migrations make the schema). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `ota_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const target = new URL(SERVICE_URLS.postgres);
  target.pathname = `/${name}`;
  const url = target.toString();
  const connect = async () => {
    const client = new PgClient({ connectionString: url });
    await client.connect();
    return client;
  };
  return {
    name,
    url,
    connect,
    async query<T>(sql: string, params: unknown[] = []) {
      const client = await connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    // OTA_TEST_KEEP_DATABASES=1 keeps them for a look after a failure.
    drop: async () => {
      if (process.env.OTA_TEST_KEEP_DATABASES) process.stderr.write(`[test:services] kept database ${name}\n`);
      else await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** A short random suffix, to keep names of one run apart from any other's (topics, groups, client ids). */
export function runId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Ends the persistent MQTT sessions of these client ids at the shared broker
 * (a clean connection drops a session). A test's gateways keep theirs when
 * they stop, as in production; left there, each would subscribe for good and
 * queue every dock message a later run publishes. Never throws.
 */
export async function endMqttSessions(clientIds: readonly string[]): Promise<void> {
  for (const clientId of clientIds) {
    const session = await mqtt
      .connectAsync(SERVICE_URLS.mqtt, { clientId, clean: true, protocolVersion: 4, reconnectPeriod: 0 })
      .catch(() => null);
    await session?.endAsync().catch(() => undefined);
  }
}
