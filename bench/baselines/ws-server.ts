/**
 * Baseline of scenario 3: a bare `ws` server in its own process that speaks
 * just enough of the graphql-transport-ws protocol for a graphql-ws client
 * (connection_init → connection_ack, subscribe → remembered), so the bench
 * uses the same client for the gateway and for this baseline, but executes
 * nothing: it sends a fixed payload.
 *
 * A control socket (no subprotocol) sends `{"type":"bench_payload","data":…}`
 * to set the ExecutionResult JSON to fan out, and `{"type":"bench_trigger"}`
 * to send it, as a `next` message, to every subscription at once. Tells the
 * bench its port over IPC.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const http = createHttpServer();
const wss = new WebSocketServer({ server: http, path: '/graphql' });
/** Subscription id of each subscribed socket. */
const subscriptions = new Map<WebSocket, string>();
let payload = '{}';

wss.on('connection', (socket) => {
  socket.on('close', () => subscriptions.delete(socket));
  socket.on('error', () => socket.terminate());
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; id?: string; data?: string };
    switch (message.type) {
      case 'connection_init':
        socket.send('{"type":"connection_ack"}');
        break;
      case 'subscribe':
        subscriptions.set(socket, String(message.id));
        break;
      case 'complete':
        subscriptions.delete(socket);
        break;
      case 'ping':
        socket.send('{"type":"pong"}');
        break;
      case 'bench_payload':
        payload = String(message.data);
        socket.send('{"type":"bench_ok"}');
        break;
      case 'bench_trigger':
        for (const [subscriber, id] of subscriptions) subscriber.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
        break;
    }
  });
});
http.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (http.address() as AddressInfo).port });
});
process.on('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
  wss.close(() => http.close(() => process.exit(0)));
});
