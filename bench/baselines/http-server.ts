/**
 * Baseline of scenario 2: a bare Node HTTP server in its own process that
 * reads the body, parses the JSON and answers 200, as the webhook would
 * without validation, storage or Fastify. Tells the bench its port over IPC.
 */
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

const server = createHttpServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { notifyType?: unknown };
      if (typeof body !== 'object' || body === null || typeof body.notifyType !== 'string') throw new Error('no notifyType');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad');
    }
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (server.address() as AddressInfo).port });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
