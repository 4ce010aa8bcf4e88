import { createServer, type AddressInfo, type Server } from 'node:net';
import Aedes from 'aedes';
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
 * Starts an aedes broker on `host:port`, so that `npm start` alone gives docks
 * somewhere to connect. Its state lives in memory: sessions survive gateway
 * client reconnects, not a restart of the process.
 * @throws StartupError naming MQTT_PORT when the port is taken.
 */
export async function startEmbeddedBroker(host: string, port: number): Promise<EmbeddedBroker> {
  const aedes = new Aedes({ id: 'ota-gateway-embedded' });
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
    close: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()));
        // Connected docks keep sockets open; the broker's close ends them.
      }),
  };
}
