/**
 * Baseline of scenario 3: a bare `ws` server in its own process. Every socket
 * is a subscriber except those that send a control message:
 * `{"type":"payload","data":"…"}` sets the text to fan out, and
 * `{"type":"trigger"}` sends it to every subscriber at once. Tells the bench
 * its port over IPC.
 */
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const http = createHttpServer();
const wss = new WebSocketServer({ server: http, path: '/fanout' });
const subscribers = new Set<WebSocket>();
let payload = '{}';

wss.on('connection', (socket) => {
  subscribers.add(socket);
  socket.on('close', () => subscribers.delete(socket));
  socket.on('error', () => socket.terminate());
  socket.on('message', (data) => {
    subscribers.delete(socket); // a control socket is no subscriber
    const message = JSON.parse(String(data)) as { type: string; data?: string };
    if (message.type === 'payload' && typeof message.data === 'string') {
      payload = message.data;
      socket.send('{"type":"ok"}');
    } else if (message.type === 'trigger') {
      for (const subscriber of subscribers) subscriber.send(payload);
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
