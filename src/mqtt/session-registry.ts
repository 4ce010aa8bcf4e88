import type { Logger } from 'pino';
import type { DataSource, QueryRunner } from 'typeorm';
import { StartupError } from '../startup-error';

/** First key of the advisory locks of MQTT sessions (the second is the client id's hash). */
const NAMESPACE = `hashtext('ota-gateway:mqtt-session')`;

/** Options of {@link MqttSessionRegistry}. */
export interface MqttSessionRegistryOptions {
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
}

/**
 * Finds the MQTT sessions of instances that died (PostgreSQL, shared group)
 * and drains them, so that a crashed instance that never comes back holds
 * nothing at the broker for longer than a poll.
 *
 * Each instance lists its client id in `mqtt_session` and holds, on a
 * connection of its own for as long as it runs, a session-level advisory lock
 * named after it. PostgreSQL releases that lock the moment the process dies
 * (its connection closes), so a listed client id whose lock can be taken
 * belongs to a dead instance: the instance that takes it connects to the
 * broker with that client id (resuming the session, with what the broker
 * queued for it and what it had in flight), leaves the group, records and
 * acknowledges everything, ends the session and removes the entry. A process
 * that comes back with that client id meanwhile waits for the lock, so the two
 * never fight over the session; two running instances configured with one
 * client id are refused at start.
 */
export class MqttSessionRegistry {
  private runner: QueryRunner | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: MqttSessionRegistryOptions,
  ) {}

  /**
   * Takes this instance's lock (waiting while another instance drains a
   * session of this client id left by an earlier process), lists the client
   * id, and starts looking for dead instances.
   * @throws {StartupError} when another running instance holds the client id.
   */
  async start(): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    this.runner = runner;
    const deadline = Date.now() + (this.options.claimTimeoutMs ?? 20_000);
    while (!(await this.tryLock(this.options.clientId))) {
      if (Date.now() > deadline) {
        await runner.release().catch(() => undefined);
        this.runner = null;
        throw new StartupError(`MQTT_CLIENT_ID: "${this.options.clientId}" is in use by another running instance; give each instance its own`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await runner.query(
      `INSERT INTO "mqtt_session" ("client_id", "shared_group", "registered_at") VALUES ($1, $2, now())
       ON CONFLICT ("client_id") DO UPDATE SET "shared_group" = EXCLUDED."shared_group", "registered_at" = EXCLUDED."registered_at"`,
      [this.options.clientId, this.options.group],
    );
    this.schedule();
  }

  /**
   * Stops looking, then (once the MQTT session has ended) removes the entry
   * and releases the lock. Call it after the connection has closed.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
    const runner = this.runner;
    this.runner = null;
    if (!runner) return;
    try {
      await runner.query(`DELETE FROM "mqtt_session" WHERE "client_id" = $1`, [this.options.clientId]);
      await runner.query(`SELECT pg_advisory_unlock(${NAMESPACE}, hashtext($1))`, [this.options.clientId]);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'mqtt session registry: could not remove this instance (its lock ends with the connection)');
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep().finally(() => this.schedule());
    }, this.options.pollMs ?? 2000);
    this.timer.unref();
  }

  /** Drains every listed session of the group whose instance is gone. */
  private async sweep(): Promise<void> {
    const runner = this.runner;
    if (!runner) return;
    try {
      const rows: { client_id: string }[] = await runner.query(
        `SELECT "client_id" FROM "mqtt_session" WHERE "shared_group" = $1 AND "client_id" <> $2 ORDER BY "registered_at"`,
        [this.options.group, this.options.clientId],
      );
      for (const { client_id: clientId } of rows) {
        if (this.stopped) return;
        if (!(await this.tryLock(clientId))) continue; // alive, or being drained by another instance
        try {
          // Listed still? A clean stop removes its entry before it lets go of its lock.
          const listed: unknown[] = await runner.query(`SELECT 1 FROM "mqtt_session" WHERE "client_id" = $1`, [clientId]);
          if (listed.length === 0) continue;
          this.options.logger.warn({ clientId }, 'mqtt: an instance of the group is gone; draining its session');
          await this.options.adopt(clientId);
          await runner.query(`DELETE FROM "mqtt_session" WHERE "client_id" = $1`, [clientId]);
          this.options.logger.info({ clientId }, 'mqtt: session of a gone instance drained and ended');
        } catch (error) {
          this.options.logger.error({ err: error, clientId }, 'mqtt: could not drain the session of a gone instance; trying again');
        } finally {
          await runner.query(`SELECT pg_advisory_unlock(${NAMESPACE}, hashtext($1))`, [clientId]).catch(() => undefined);
        }
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'mqtt session registry: look-up failed; trying again');
    }
  }

  private async tryLock(clientId: string): Promise<boolean> {
    const [row]: { locked: boolean }[] = await this.runner!.query(`SELECT pg_try_advisory_lock(${NAMESPACE}, hashtext($1)) AS locked`, [clientId]);
    return row.locked;
  }
}
