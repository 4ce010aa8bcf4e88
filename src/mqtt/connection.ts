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
  /** Stable across restarts: with `clean: false` the broker keeps the session (and what was not acknowledged). */
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** Topic filters subscribed with QoS 1 on every (re)connection. */
  readonly subscriptions: readonly string[];
  /**
   * Keep the session at the broker across disconnections (`clean: false`), so
   * that what the broker accepted while the gateway was away or had not
   * acknowledged reaches it when it is back. See {@link MqttConnection} for the
   * trade-off with shared subscriptions. @default true
   */
  readonly persistentSession?: boolean;
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
 * With shared subscriptions (several instances in one `$share/<group>/…`),
 * the session kind is a trade-off the operator makes (`MQTT_CLEAN_SESSION`):
 * - persistent (the default): a broker keeps routing a share of the group's
 *   messages to a member that is away (Mosquitto does), and holds them for it:
 *   an instance that crashed or restarts gets its share late, but nothing is
 *   lost. An instance removed for good leaves its share waiting for a process
 *   with its client id.
 * - clean: a member leaves the group when its connection ends, so the others
 *   get everything from then on at once; the price is what the broker had
 *   handed to the crashed member and not had acknowledged (MQTT 5 says a
 *   broker SHOULD hand it to another member; Mosquitto 2 does not), and, with
 *   every member away, everything published meanwhile. A graceful
 *   {@link close} first unsubscribes, so a normal shutdown loses nothing.
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

  constructor(private readonly options: MqttConnectionOptions) {
    this.persistentSession = options.persistentSession ?? true;
    this.minReconnectMs = options.minReconnectMs ?? 500;
    this.maxReconnectMs = options.maxReconnectMs ?? 30_000;
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: !this.persistentSession,
      // 3.1.1: what every broker speaks (the embedded aedes has no MQTT 5).
      protocolVersion: 4,
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
      options.logger.info({ url: redact(options.url) }, 'mqtt connected');
      // Subscribing again on a resumed session is harmless and covers a broker that lost it
      // (Mosquitto forgets shared subscriptions when it restarts).
      if (options.subscriptions.length === 0) {
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
    return this.client.connected && this.subscribed;
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
   * Waits for held acknowledgements, then disconnects cleanly. A clean session
   * first unsubscribes, so that the broker sends the group's next messages to
   * the other instances rather than to a session about to end (a persistent
   * session keeps its subscriptions: the broker queues for it while it is away).
   */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.persistentSession && this.client.connected) {
      await this.client.unsubscribeAsync([...this.options.subscriptions]).catch(() => undefined);
    }
    // Messages that were already on their way when the broker took the unsubscription still get handled.
    for (let chain = this.ackChain; ; chain = this.ackChain) {
      await chain.catch(() => undefined);
      if (chain === this.ackChain) break;
    }
    await this.client.endAsync();
  }

  private holdAcknowledgements(): void {
    // `_sendPacket` is MQTT.js-internal; this is the one place that relies on it.
    const client = this.client as unknown as {
      handleMessage: (packet: IPublishPacket, callback: (error?: Error) => void) => void;
      _sendPacket: (packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]) => void;
    };
    client.handleMessage = (packet, callback) => {
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
            if (generation === this.generation && this.client.connected && !this.client.disconnecting) send(packet);
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

/** The URL without credentials, for logs. */
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
