import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';

/**
 * Handles one inbound message; resolves once it is durable (then the PUBACK
 * goes out). `delivery.redelivered` is the packet's DUP flag: the sender may
 * have sent it before (the ordering rules then consult the device's clock).
 */
export type MessageHandler = (topic: string, payload: Buffer, delivery?: { readonly redelivered: boolean }) => Promise<void>;

/** Options of {@link MqttConnection}. */
export interface MqttConnectionOptions {
  readonly url: string;
  /** Stable across restarts and distinct per instance: the broker keeps the session (and what was not acknowledged) under it. */
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** Topic filters subscribed with QoS 1 on every (re)connection (and left by {@link close}). */
  readonly subscriptions: readonly string[];
  /**
   * False: never subscribe, only resume the session and let {@link close}
   * leave its subscriptions and drain it (taking over a gone instance's
   * session). @default true
   */
  readonly subscribeOnConnect?: boolean;
  /**
   * Keep the session at the broker across disconnections (`clean: false`), so
   * that what the broker accepted while the gateway was away or had not
   * acknowledged reaches it when it is back. See {@link MqttConnection} for the
   * trade-off with shared subscriptions. @default true
   */
  readonly persistentSession?: boolean;
  /**
   * 5 with an external broker: the session then ends when its connection has
   * been gone for {@link sessionExpirySeconds}, and a graceful {@link close}
   * ends it at once. 4 (MQTT 3.1.1) for the embedded aedes, which speaks
   * nothing else. @default 4
   */
  readonly protocolVersion?: 4 | 5;
  /**
   * {@link close} leaves the subscriptions, drains, and ends the session
   * (MQTT 5: expiry 0), so a stopped instance holds no share of a shared
   * group. False: a persistent session is kept (until it expires), with its
   * subscriptions, so that a process back with the same client id gets what
   * came meanwhile. @default protocolVersion === 5
   */
  readonly endSessionOnClose?: boolean;
  /** MQTT 5, persistent session: how long the broker keeps it after a connection ended without a clean stop. @default 60 */
  readonly sessionExpirySeconds?: number;
  /** MQTT 5: most messages the broker may have in flight to this client (unacknowledged). @default 100 */
  readonly receiveMaximum?: number;
  /** {@link close}: the broker has nothing more for the session once it has sent nothing for this long after the last PUBACK. @default 500 */
  readonly drainQuietMs?: number;
  /** {@link close}: longest it drains before disconnecting anyway (the session is then left to expire). @default 6000 */
  readonly drainTimeoutMs?: number;
  readonly onMessage: MessageHandler;
  /**
   * Backpressure: the next message is read from the broker only once this
   * resolves (the writer has room). Unset: read on at once.
   */
  readonly admit?: () => Promise<void>;
  readonly logger: Logger;
  /** First reconnect delay; doubles on each failure up to {@link maxReconnectMs}. @default 500 */
  readonly minReconnectMs?: number;
  /** @default 30000 */
  readonly maxReconnectMs?: number;
}

/**
 * The gateway's MQTT client: persistent session, QoS 1, and a PUBACK sent for
 * a message only after its handler resolved, that is, after the observation is
 * committed. A gateway killed mid-stream therefore gets from the broker every
 * message it had not acknowledged, and the dedupe key absorbs the repeats.
 *
 * Messages are still handled concurrently (so the recorder can commit a burst
 * together): MQTT.js sends the PUBACK when its `handleMessage` hook calls back,
 * one message at a time, so the hook calls back at once and the PUBACK itself
 * is held back here until the handler resolves. Acknowledgements leave in the
 * order the messages came, as MQTT requires for QoS 1. When a handler fails
 * (storage is down), nothing after it is acknowledged: the connection is
 * dropped and re-established after a pause, and the broker redelivers.
 *
 * With shared subscriptions (several instances in one `$share/<group>/…`) a
 * broker keeps routing a share of the group's messages to a member whose
 * connection is gone, as long as its session lives (Mosquitto does), and a
 * session kept for good would hold that share for good once its instance is
 * removed or renamed. So, with MQTT 5 (an external broker):
 * - a graceful {@link close} (`endSessionOnClose`) leaves the group (UNSUBSCRIBE), handles and
 *   acknowledges whatever the broker still sends the session, and only then
 *   disconnects with a session expiry of 0: the broker drops an empty session,
 *   and the group's traffic goes to the other members;
 * - a crash leaves the session to the broker for `sessionExpirySeconds`: a
 *   process back with the same client id within that window resumes it with
 *   everything queued, and so does another instance that drains it
 *   (`subscribeOnConnect: false`, see MqttSessionRegistry); otherwise the
 *   broker drops it, and with it its share of what was published in the
 *   window and what it had in flight (at most `receiveMaximum`);
 * - `persistentSession: false` (`MQTT_CLEAN_SESSION`) starts every connection
 *   clean with an expiry of 0: nothing is kept across a disconnection at all.
 * A connection displaced by another client with the same id does not
 * reconnect (until {@link resume}): two instances never fight over one
 * session, and the displaced one is no longer ready. That needs a broker that
 * says so (DISCONNECT "session taken over", 0x8E); Mosquitto 2.0.11 only
 * closes the connection, hence the start-up check of MqttSessionRegistry.
 */
export class MqttConnection {
  readonly client: MqttClient;
  private readonly heldAcks = new Map<number, Promise<void>>();
  private ackChain: Promise<void> = Promise.resolve();
  /** Bumped whenever the connection is dropped: acknowledgements of an older generation are never sent. */
  private generation = 0;
  private readonly minReconnectMs: number;
  private readonly maxReconnectMs: number;
  private closing = false;
  private readonly persistentSession: boolean;
  /** True once the broker confirmed this connection's subscriptions (SUBACK); false from every disconnection. */
  private subscribed = false;
  private readonly protocolVersion: 4 | 5;
  /** When a message last came in or a PUBACK last went out (what {@link close} watches while draining). */
  private lastActivityAt = 0;
  /** Set when another client took this client id's session over, or by {@link pause}: no reconnection until {@link resume}. */
  private displaced = false;

  constructor(private readonly options: MqttConnectionOptions) {
    this.persistentSession = options.persistentSession ?? true;
    this.minReconnectMs = options.minReconnectMs ?? 500;
    this.maxReconnectMs = options.maxReconnectMs ?? 30_000;
    this.protocolVersion = options.protocolVersion ?? 4;
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: !this.persistentSession,
      protocolVersion: this.protocolVersion,
      ...(this.protocolVersion === 5
        ? {
            properties: {
              sessionExpiryInterval: this.persistentSession ? (options.sessionExpirySeconds ?? 60) : 0,
              receiveMaximum: options.receiveMaximum ?? 100,
            },
          }
        : {}),
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: this.minReconnectMs,
      resubscribe: false,
      username: options.username,
      password: options.password,
    };
    this.client = mqtt.connect(options.url, clientOptions);
    this.holdAcknowledgements();
    this.client.on('connect', () => {
      this.client.options.reconnectPeriod = this.minReconnectMs;
      options.logger.info({ url: redact(options.url), clientId: options.clientId }, 'mqtt connected');
      // A reconnection while closing (after a dropped connection) does not join the group again.
      if (this.closing) return;
      // Subscribing again on a resumed session is harmless and covers a broker that lost it
      // (Mosquitto forgets shared subscriptions when it restarts).
      if (options.subscriptions.length === 0 || options.subscribeOnConnect === false) {
        this.subscribed = true;
        return;
      }
      const generation = this.generation;
      this.client.subscribe([...options.subscriptions], { qos: 1 }, (error, granted) => {
        const refused = granted?.filter((g) => g.qos === 128) ?? [];
        if (error || refused.length > 0) {
          options.logger.error({ err: error, refused: refused.map((g) => g.topic) }, 'mqtt subscribe failed');
          return;
        }
        if (generation === this.generation) this.subscribed = true;
      });
    });
    this.client.on('reconnect', () => {
      const next = Math.min(this.maxReconnectMs, (this.client.options.reconnectPeriod ?? this.minReconnectMs) * 2);
      this.client.options.reconnectPeriod = next;
    });
    this.client.on('close', () => {
      this.subscribed = false;
      this.generation++;
      this.heldAcks.clear();
      if (!this.closing) options.logger.warn('mqtt connection closed; reconnecting');
    });
    this.client.on('error', (error) => options.logger.warn({ err: error }, 'mqtt error'));
    this.client.on('disconnect', (packet) => {
      if (packet.reasonCode !== SESSION_TAKEN_OVER) {
        options.logger.warn({ reasonCode: packet.reasonCode }, 'mqtt broker disconnected the gateway');
        return;
      }
      this.displaced = true;
      options.logger.error(
        { clientId: options.clientId },
        'mqtt: another client connected with this MQTT_CLIENT_ID and took the session over; this instance stops consuming (give every instance its own MQTT_CLIENT_ID)',
      );
      this.client.end(true);
    });
  }

  /** True while connected to the broker. */
  get connected(): boolean {
    return this.client.connected;
  }

  /**
   * True while connected and subscribed: messages published now reach the
   * gateway. Between a reconnection and the SUBACK a broker that lost the
   * subscription (Mosquitto drops shared ones when it restarts) would drop
   * them, so readiness waits for this.
   */
  get ready(): boolean {
    return this.client.connected && this.subscribed && !this.displaced;
  }

  /**
   * Stops using the client id (no DISCONNECT: the broker keeps the session)
   * until {@link resume}, while another instance drains the session.
   */
  pause(): void {
    if (this.displaced || this.closing) return;
    this.displaced = true;
    this.options.logger.warn({ clientId: this.options.clientId }, 'mqtt: pausing; another instance is draining this client id\'s session');
    this.client.end(true);
  }

  /**
   * Connects again after a displacement or a {@link pause}, once the caller
   * knows the client id is this instance's again (MqttSessionRegistry got its
   * lock back).
   */
  resume(): void {
    if (!this.displaced || this.closing) return;
    this.displaced = false;
    this.options.logger.info({ clientId: this.options.clientId }, 'mqtt: the client id is this instance\'s again; reconnecting');
    this.client.reconnect();
  }

  /** Resolves on the first successful connection; rejects if the first attempt fails before `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`MQTT broker ${redact(this.options.url)} not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.client.off('connect', onConnect);
      };
      this.client.on('connect', onConnect);
    });
  }

  /** Publishes with QoS 1; while disconnected, MQTT.js queues it and sends it after reconnection. */
  async publish(topic: string, payload: string): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  /**
   * Stops without leaving anything behind at the broker. When the session is
   * to end (MQTT 5, or a clean session), it first leaves the group
   * (UNSUBSCRIBE), so the broker sends the group's next messages to the other
   * members; then it drains: handles and acknowledges what the broker still
   * sends (what it had queued or in flight for this session) until nothing
   * more comes; then it disconnects with a session expiry of 0, and the broker
   * drops the now empty session. If the drain does not finish within
   * `drainTimeoutMs`, or the connection drops meanwhile, it disconnects
   * keeping the session, which then expires as after a crash (a process with
   * the same client id resumes it). Without `endSessionOnClose` a persistent
   * session is kept with its subscriptions (until it expires). Resolves true
   * when it left, drained and ended the session.
   */
  async close(): Promise<boolean> {
    this.closing = true;
    const endsSession = (this.options.endSessionOnClose ?? this.protocolVersion === 5) || !this.persistentSession;
    if (!endsSession || !this.client.connected || this.displaced) {
      await this.settleAcknowledgements();
      await this.client.endAsync(!this.client.connected);
      return false;
    }
    if (this.options.subscriptions.length > 0) {
      await this.client.unsubscribeAsync([...this.options.subscriptions]).catch(() => undefined);
    }
    const drained = await this.drain();
    if (!drained || !this.client.connected) {
      this.options.logger.warn({ clientId: this.options.clientId }, 'mqtt: drain not finished; the broker keeps the session until it expires');
      await this.client.endAsync(!this.client.connected);
      return false;
    }
    if (this.protocolVersion === 5) {
      await this.client.endAsync({ reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    } else {
      await this.client.endAsync();
    }
    this.options.logger.info({ clientId: this.options.clientId }, 'mqtt: left the group, drained, session ended');
    return true;
  }

  /** Waits until every held acknowledgement has been sent (or dropped). */
  private async settleAcknowledgements(): Promise<void> {
    for (let chain = this.ackChain; ; chain = this.ackChain) {
      await chain.catch(() => undefined);
      if (chain === this.ackChain) break;
    }
  }

  /**
   * True once every message received has been handled and acknowledged and
   * the broker has sent nothing for `drainQuietMs` (it sends what it holds for
   * the session as soon as a PUBACK frees a slot, so quiet means empty); false
   * after `drainTimeoutMs` or when the connection drops.
   */
  private async drain(): Promise<boolean> {
    const quietMs = this.options.drainQuietMs ?? 500;
    const deadline = Date.now() + (this.options.drainTimeoutMs ?? 6000);
    this.lastActivityAt = Math.max(this.lastActivityAt, Date.now());
    for (;;) {
      await this.settleAcknowledgements();
      if (!this.client.connected) return false;
      const idle = Date.now() - this.lastActivityAt;
      if (idle >= quietMs && this.heldAcks.size === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.max(20, Math.min(quietMs - idle, 100))));
    }
  }

  private holdAcknowledgements(): void {
    // `_sendPacket` is MQTT.js-internal; this is the one place that relies on it.
    const client = this.client as unknown as {
      handleMessage: (packet: IPublishPacket, callback: (error?: Error) => void) => void;
      _sendPacket: (packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]) => void;
    };
    client.handleMessage = (packet, callback) => {
      this.lastActivityAt = Date.now();
      const work = this.options.onMessage(packet.topic, packet.payload as Buffer, { redelivered: packet.dup === true });
      if (packet.qos > 0 && packet.messageId !== undefined) this.heldAcks.set(packet.messageId, work);
      else work.catch((error) => this.options.logger.error({ err: error }, 'mqtt message handling failed'));
      const admitted = this.options.admit?.();
      if (admitted) admitted.then(() => callback(), () => callback());
      else callback();
    };
    const send = client._sendPacket.bind(client);
    client._sendPacket = (packet, cb, ...rest) => {
      const messageId = (packet as { messageId?: number }).messageId;
      const work = packet.cmd === 'puback' && messageId !== undefined ? this.heldAcks.get(messageId) : undefined;
      if (!work) return send(packet, cb, ...rest);
      this.heldAcks.delete(messageId!);
      const generation = this.generation;
      this.ackChain = this.ackChain.then(() =>
        work.then(
          () => {
            // Once the client is ending, nothing more is acknowledged: the handler's
            // events_reply could not go out ("client disconnecting"), so the broker
            // must give the message to the next session, which answers it.
            if (generation === this.generation && this.client.connected && !this.client.disconnecting) {
              send(packet);
              this.lastActivityAt = Date.now();
            }
          },
          (error) => {
            if (generation !== this.generation) return;
            this.options.logger.error({ err: error }, 'mqtt message not stored; dropping the connection so the broker redelivers');
            this.generation++;
            this.client.stream?.destroy();
          },
        ),
      );
      // Let MQTT.js read the next packet now; the PUBACK leaves when the chain gets here.
      cb?.();
    };
  }
}

/** MQTT 5 DISCONNECT reason: another connection with the same client id took the session over. */
const SESSION_TAKEN_OVER = 0x8e;

/** The URL without credentials, for logs. */
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
