import type { Logger } from 'pino';
import { StartupError } from '../startup-error';

/** The little of node-postgres used here (the package ships no types). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client } = require('pg') as { Client: new (config: { connectionString: string; keepAlive?: boolean }) => PgClient };

/** First key of the advisory locks of MQTT sessions (the second is the hash of broker and client id). */
const NAMESPACE = `hashtext('ota-gateway:mqtt-session')`;

/** Options of {@link MqttSessionRegistry}. */
export interface MqttSessionRegistryOptions {
  /** The broker (its URL without credentials): sessions live there, and only that broker's are adopted. */
  readonly broker: string;
  /** This instance's MQTT client id. */
  readonly clientId: string;
  /** The shared group: only sessions of this group are adopted. */
  readonly group: string;
  /** Takes the session of `clientId` over at the broker, hands what it holds to the recorder, and ends it. */
  readonly adopt: (clientId: string) => Promise<void>;
  readonly logger: Logger;
  /** How often the instances that died are looked for. @default 2000 */
  readonly pollMs?: number;
  /** How long {@link start} waits for its own client id to be free (another instance draining it). @default 20000 */
  readonly claimTimeoutMs?: number;
  /**
   * Called when the lock was lost (its database connection broke) and has
   * been taken again: the client id is this instance's again (if another
   * instance drained its session meanwhile, the connection was displaced and
   * may now connect again).
   */
  readonly onReclaimed?: () => void;
  /**
   * Called when the lock, lost with its database connection, turns out to be
   * held by another instance (which is draining this one's session): stop
   * using the client id until {@link onReclaimed}, so the two do not fight.
   */
  readonly onTakenOver?: () => void;
}

/**
 * Finds the MQTT sessions of instances that died (PostgreSQL, shared group)
 * and drains them, so that a crashed instance that never comes back holds
 * nothing at the broker for longer than a poll.
 *
 * Each instance lists its broker and client id in `mqtt_session` and holds,
 * on a connection of its own for as long as it runs, a session-level advisory
 * lock named after them. PostgreSQL releases that lock the moment the process dies
 * (its connection closes), so a listed client id whose lock can be taken
 * belongs to a dead instance: the instance that takes it connects to the
 * broker with that client id (resuming the session, with what the broker
 * queued for it and what it had in flight), leaves the group, records and
 * acknowledges everything, ends the session and removes the entry. A process
 * that comes back with that client id meanwhile waits for the lock, so the two
 * never fight over the session; two running instances configured with one
 * client id are refused at start. The lock lives on a connection of the
 * registry's own: if that connection breaks, the lock goes with it (another
 * instance may then drain this one's session, displacing its connection), and
 * the registry connects again, takes its lock back and says so
 * ({@link MqttSessionRegistryOptions.onReclaimed}).
 */
export class MqttSessionRegistry {
  private client: PgClient | null = null;
  /** True while {@link client}'s session holds this instance's lock. */
  private holding = false;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  /** True between {@link MqttSessionRegistryOptions.onTakenOver} and {@link MqttSessionRegistryOptions.onReclaimed}. */
  private takenOver = false;

  constructor(
    /** A PostgreSQL URL (the gateway's DATABASE_URL). */
    private readonly databaseUrl: string,
    private readonly options: MqttSessionRegistryOptions,
  ) {}

  /**
   * Takes this instance's lock (waiting while another instance drains a
   * session of this client id left by an earlier process), lists the client
   * id, and starts looking for dead instances.
   * @throws {StartupError} when another running instance holds the client id.
   */
  async start(): Promise<void> {
    const deadline = Date.now() + (this.options.claimTimeoutMs ?? 20_000);
    while (!(await this.claim())) {
      if (Date.now() > deadline) {
        await this.disconnect();
        throw new StartupError(`MQTT_CLIENT_ID: "${this.options.clientId}" is in use by another running instance; give each instance its own`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    this.schedule();
  }

  /**
   * Stops looking, then (once the MQTT session has ended) removes the entry
   * and releases the lock. Call it after the connection has closed.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    try {
      if (this.client && this.holding) {
        await this.client.query(`DELETE FROM "mqtt_session" WHERE "broker" = $1 AND "client_id" = $2`, [this.options.broker, this.options.clientId]);
        await this.client.query(`SELECT pg_advisory_unlock(${NAMESPACE}, hashtext($1))`, [this.lockName(this.options.clientId)]);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'mqtt session registry: could not remove this instance (its lock ends with the connection)');
    } finally {
      await this.disconnect();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule());
    }, this.options.pollMs ?? 2000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      if (this.holding) await this.client!.query('SELECT 1');
      else if (await this.claim()) {
        this.options.logger.warn({ clientId: this.options.clientId }, 'mqtt session registry: lock taken again after its connection broke');
        this.takenOver = false;
        this.options.onReclaimed?.();
      } else if (!this.takenOver) {
        this.options.logger.warn({ clientId: this.options.clientId }, 'mqtt session registry: another instance holds this instance\'s lock (draining its session); pausing MQTT until it is free');
        this.takenOver = true;
        this.options.onTakenOver?.();
      }
      if (this.holding) await this.sweep();
    } catch (error) {
      // The connection broke, and the lock with it: connect again and take it back on the next tick.
      this.options.logger.warn({ err: error }, 'mqtt session registry: database connection lost; reconnecting');
      await this.disconnect();
    }
  }

  /** Connects if need be and tries to take this instance's lock; lists the client id once it holds it. */
  private async claim(): Promise<boolean> {
    if (!this.client) {
      const client = new Client({ connectionString: this.databaseUrl, keepAlive: true });
      client.on('error', (error) => {
        this.options.logger.warn({ err: error }, 'mqtt session registry: database connection error');
        this.holding = false;
      });
      await client.connect();
      this.client = client;
    }
    if (!(await this.tryLock(this.options.clientId))) return false;
    await this.client.query(
      `INSERT INTO "mqtt_session" ("broker", "client_id", "shared_group", "registered_at") VALUES ($1, $2, $3, now())
       ON CONFLICT ("broker", "client_id") DO UPDATE SET "shared_group" = EXCLUDED."shared_group", "registered_at" = EXCLUDED."registered_at"`,
      [this.options.broker, this.options.clientId, this.options.group],
    );
    this.holding = true;
    return true;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.holding = false;
    await client?.end().catch(() => undefined);
  }

  /** Drains every listed session of the group whose instance is gone. */
  private async sweep(): Promise<void> {
    const client = this.client!;
    const { rows } = await client.query(
      `SELECT "client_id" FROM "mqtt_session" WHERE "broker" = $1 AND "shared_group" = $2 AND "client_id" <> $3 ORDER BY "registered_at"`,
      [this.options.broker, this.options.group, this.options.clientId],
    );
    for (const { client_id: clientId } of rows as { client_id: string }[]) {
      if (this.stopped) return;
      if (!(await this.tryLock(clientId))) continue; // alive, or being drained by another instance
      try {
        // Listed still? A clean stop removes its entry before it lets go of its lock.
        const listed = await client.query(`SELECT 1 FROM "mqtt_session" WHERE "broker" = $1 AND "client_id" = $2`, [this.options.broker, clientId]);
        if (listed.rows.length === 0) continue;
        this.options.logger.warn({ clientId }, 'mqtt: an instance of the group is gone; draining its session');
        await this.options.adopt(clientId);
        await client.query(`DELETE FROM "mqtt_session" WHERE "broker" = $1 AND "client_id" = $2`, [this.options.broker, clientId]);
        this.options.logger.info({ clientId }, 'mqtt: session of a gone instance drained and ended');
      } catch (error) {
        this.options.logger.error({ err: error, clientId }, 'mqtt: could not drain the session of a gone instance; trying again');
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${NAMESPACE}, hashtext($1))`, [this.lockName(clientId)]).catch(() => undefined);
      }
    }
  }

  private async tryLock(clientId: string): Promise<boolean> {
    const { rows } = await this.client!.query(`SELECT pg_try_advisory_lock(${NAMESPACE}, hashtext($1)) AS locked`, [this.lockName(clientId)]);
    return rows[0].locked === true;
  }

  /** What a lock is named after: a client id at a broker. */
  private lockName(clientId: string): string {
    return `${this.options.broker} ${clientId}`;
  }
}
