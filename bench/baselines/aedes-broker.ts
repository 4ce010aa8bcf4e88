/**
 * Baseline of scenario 1: a bare aedes broker in its own process, configured
 * as the gateway's embedded one (in-memory persistence, plain TCP on loopback).
 * Tells the bench its port over IPC.
 */
import Aedes from 'aedes';
import { createServer, type AddressInfo } from 'node:net';

const aedes = new Aedes({ id: 'bench-baseline' });
const server = createServer((socket) => {
  socket.on('error', () => socket.destroy());
  aedes.handle(socket);
});
server.maxConnections = 10_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (server.address() as AddressInfo).port });
});
process.on('SIGTERM', () => aedes.close(() => server.close(() => process.exit(0))));
