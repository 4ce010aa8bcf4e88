/**
 * Durable baseline of scenario 2 and the task-size scenario: a bare Node HTTP
 * server that parses each push and answers 200 only after a group commit of
 * it into SQLite (see durable-store.ts; key: a hash of the body, as the
 * gateway dedupes Huawei pushes by content). Tells the bench its port over IPC.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { openDurableStore } from './durable-store';

async function main(): Promise<void> {
  const store = await openDurableStore();
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let notifyType: string;
      try {
        const body = JSON.parse(text) as { notifyType?: unknown };
        if (typeof body !== 'object' || body === null || typeof body.notifyType !== 'string') throw new Error('no notifyType');
        notifyType = body.notifyType;
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('bad');
        return;
      }
      store.add(createHash('sha256').update(text).digest('hex'), notifyType, text).then(
        () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
        () => res.writeHead(503, { 'content-type': 'text/plain' }).end('storage'),
      );
    });
  });
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ ready: true, port: (server.address() as AddressInfo).port });
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => void store.close().then(() => process.exit(0)));
  });
}

void main();
