/**
 * Durable baseline of scenario 1: an aedes broker that acknowledges each QoS 1
 * message only after a group commit of it into SQLite (see durable-store.ts;
 * key: the topic and the message's `tid`, as the gateway dedupes DJI
 * messages), then forwards it to subscribers. Tells the bench its port over IPC.
 */
import Aedes from 'aedes';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { openDurableStore } from './durable-store';

async function main(): Promise<void> {
  const store = await openDurableStore();
  const aedes = new Aedes({
    id: 'bench-durable-baseline',
    // aedes sends the PUBACK (and forwards the message) only once this calls back.
    authorizePublish: (_client, packet, callback) => {
      const payload = packet.payload.toString();
      let key: string;
      try {
        const tid = (JSON.parse(payload) as { tid?: unknown }).tid;
        key = typeof tid === 'string' ? `${packet.topic}\u0000${tid}` : createHash('sha256').update(payload).digest('hex');
      } catch {
        key = createHash('sha256').update(payload).digest('hex');
      }
      store.add(key, packet.topic, payload).then(
        () => callback(null),
        (error: Error) => callback(error),
      );
    },
  });
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    aedes.handle(socket);
  });
  server.maxConnections = 10_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ ready: true, port: (server.address() as AddressInfo).port });
  });
  process.on('SIGTERM', () => aedes.close(() => server.close(() => void store.close().then(() => process.exit(0)))));
}

void main();
