import { createServer, type AddressInfo, type Server } from 'node:net';
import Aedes from 'aedes';
import type { MessageHandler } from './connection';
import { listenError } from '../startup-error';

/** The embedded broker: what it listens on and how to stop it. */
export interface EmbeddedBroker {
  /** The port it listens on (useful when started on port 0). */
  readonly port: number;
  /** A URL the gateway's own client connects with. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Hands the gateway the messages published on some topics as the broker
 * receives them (see {@link startEmbeddedBroker}).
 */
export interface EmbeddedIngest {
  /** Topic filters (`+` and `#` wildcards) whose messages go to {@link onMessage}. */
  readonly filters: readonly string[];
  /**
   * Handles one message; resolves once it is durable. Only then does the
   * publisher get its PUBACK. A rejection closes the publisher's connection
   * without one, so that it sends the message again.
   */
  readonly onMessage: MessageHandler;
}

/** Hooks into the broker's view of its clients. */
export interface EmbeddedBrokerHooks {
  /**
   * Called when a client's connection is up (`true`, after CONNACK) and when
   * it ends (`false`), with the client id: the fleet inventory's dock presence.
   */
  readonly onClientPresence?: (clientId: string, online: boolean, client: object) => void;
}

/** Topics only the broker itself may publish on. */
const SYS_PREFIX = '$SYS/';

/**
 * Starts an aedes broker on `host:port`, so that `npm start` alone gives docks
 * somewhere to connect. Its state lives in memory: sessions survive gateway
 * client reconnects, not a restart of the process.
 *
 * With `ingest`, the messages docks publish on its topics reach the gateway
 * inside the broker, before the broker acknowledges them: the dock's PUBACK
 * waits until the message is committed. A broker in the gateway's own memory
 * cannot keep a message the gateway has not stored (a crash takes both), so
 * this is the only acknowledgement that means "stored"; it also spares every
 * message a loopback trip through an MQTT client. A dock's connection reads
 * its next packets only once those already read are acknowledged, which is
 * the backpressure. Other subscribers of those topics still get the messages.
 * @throws StartupError naming MQTT_PORT when the port is taken.
 */
export async function startEmbeddedBroker(host: string, port: number, ingest?: EmbeddedIngest, hooks: EmbeddedBrokerHooks = {}): Promise<EmbeddedBroker> {
  const inFlight = new Set<Promise<void>>();
  const ingests = ingest ? topicMatcher(ingest.filters) : () => false;
  const aedes = new Aedes({
    id: 'ota-gateway-embedded',
    authorizePublish: (client, packet, callback) => {
      if (packet.topic.startsWith(SYS_PREFIX)) return callback(new Error(`${SYS_PREFIX} topic is reserved`));
      if (!ingest || !ingests(packet.topic)) return callback(null);
      const handled = ingest.onMessage(packet.topic, packet.payload as Buffer);
      inFlight.add(handled);
      handled.then(
        () => callback(null),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      ).finally(() => inFlight.delete(handled));
    },
  });
  const presence = hooks.onClientPresence;
  if (presence) {
    aedes.on('client', (client) => presence(client.id, true, client));
    aedes.on('clientDisconnect', (client) => presence(client.id, false, client));
  }
  const server: Server = createServer((socket) => {
    // A peer that vanishes mid-packet must not take the process with it.
    socket.on('error', () => socket.destroy());
    aedes.handle(socket);
  });
  server.maxConnections = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, 'MQTT_PORT', host, port)));
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const clientHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    port: actualPort,
    url: `mqtt://${clientHost}:${actualPort}`,
    close: async () => {
      // Messages being stored still get their PUBACK; then the broker's close ends the docks' sockets.
      await Promise.allSettled([...inFlight]);
      await new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve())));
    },
  };
}

/**
 * A predicate for topics matching any of `filters` (MQTT wildcards: `+` one
 * level, `#` the rest). Topics starting with `$` match no wildcard at the
 * first level, as MQTT 3.1.1 § 4.7.2 says.
 */
export function topicMatcher(filters: readonly string[]): (topic: string) => boolean {
  const patterns = filters.map((filter) => filter.split('/'));
  return (topic) => {
    const levels = topic.split('/');
    return patterns.some((pattern) => {
      for (let i = 0; i < pattern.length; i++) {
        const part = pattern[i];
        if (i === 0 && topic.startsWith('$') && (part === '+' || part === '#')) return false;
        if (part === '#') return true;
        if (i >= levels.length) return false;
        if (part !== '+' && part !== levels[i]) return false;
      }
      return pattern.length === levels.length;
    });
  };
}
