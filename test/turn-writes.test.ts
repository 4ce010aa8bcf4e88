import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { coalesceWritesOfTurn } from '../src/net/turn-writes';
import { EAGER_SEND_MAX_QUEUED_BYTES, TurnBatchedWebSocket } from '../src/server/turn-batched-websocket';

/** A stream that records each write it is handed by Node: one entry per system call a socket would make. */
function recordingStream(): { stream: Writable; writes: string[][] } {
  const writes: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push([chunk.toString()]);
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.map(({ chunk }) => (chunk as Buffer).toString()));
      done();
    },
  });
  return { stream, writes };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('coalesceWritesOfTurn', () => {
  it('sends the first write of a turn at once and the rest of the turn in one write, in order', async () => {
    const { stream, writes } = recordingStream();
    for (let i = 0; i < 50; i++) {
      coalesceWritesOfTurn(stream);
      stream.write(`a${i}`);
    }
    expect(writes).toEqual([['a0']]);
    await nextTurn();
    expect(writes).toEqual([['a0'], Array.from({ length: 49 }, (_, i) => `a${i + 1}`)]);

    // The next turn starts afresh.
    for (const chunk of ['b0', 'b1', 'b2']) {
      coalesceWritesOfTurn(stream);
      stream.write(chunk);
    }
    await nextTurn();
    expect(writes.slice(2)).toEqual([['b0'], ['b1', 'b2']]);
  });

  it('holds many streams in one turn and leaves a finished or destroyed one alone', async () => {
    const one = recordingStream();
    const two = recordingStream();
    const ended = recordingStream();
    ended.stream.end();
    const destroyed = recordingStream();
    for (const { stream } of [one, two, ended, destroyed]) coalesceWritesOfTurn(stream);
    for (const { stream } of [one, two, ended, destroyed]) coalesceWritesOfTurn(stream);
    destroyed.stream.destroy();
    one.stream.write('x1');
    one.stream.write('x2');
    two.stream.write('y1');
    expect(one.writes).toEqual([]);
    await nextTurn();
    expect(one.writes).toEqual([['x1', 'x2']]);
    expect(two.writes).toEqual([['y1']]);
    expect(ended.stream.writableCorked).toBe(0);
  });
});

describe('TurnBatchedWebSocket', () => {
  let server: WebSocketServer;
  let client: WebSocket;
  let socket: TurnBatchedWebSocket;
  const received: string[] = [];

  beforeEach(async () => {
    received.length = 0;
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', WebSocket: TurnBatchedWebSocket });
    const accepted = new Promise<TurnBatchedWebSocket>((resolve) =>
      server.once('connection', (ws: TurnBatchedWebSocket, request) => {
        ws.writesTo(request.socket);
        resolve(ws);
      }),
    );
    await new Promise<void>((resolve) => server.once('listening', resolve));
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    client.on('message', (data) => received.push(String(data)));
    await new Promise((resolve) => client.once('open', resolve));
    socket = await accepted;
  });

  afterEach(async () => {
    client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Sends as graphql-ws does: each frame after the last one's callback. */
  async function sendInOrder(frames: readonly string[], progress?: { sent: number }): Promise<void> {
    for (const frame of frames) {
      await new Promise<void>((resolve, reject) => socket.send(frame, (error) => (error ? reject(error) : resolve())));
      if (progress) progress.sent++;
    }
  }

  it('delivers every frame of a burst, in order', async () => {
    const frames = Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: '1', type: 'next', payload: { i } }));
    await sendInOrder(frames);
    await waitFor(() => received.length === frames.length);
    expect(received).toEqual(frames);
  });

  it('stops calling back early for a peer that does not read: what it holds stays bounded', async () => {
    client.pause();
    const frame = 'x'.repeat(16 * 1024);
    // Far more than the kernel's socket buffers take on loopback.
    const frames = Array.from({ length: 4096 }, () => frame);
    const progress = { sent: 0 };
    const sending = sendInOrder(frames, progress);
    // Wait until the sender is stuck, waiting for the peer.
    let last = -1;
    while (progress.sent !== last) {
      last = progress.sent;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(progress.sent).toBeLessThan(frames.length);
    // At most the bound, the frame sent eagerly just under it, and the one that then waits (each with its header).
    expect(socket.bufferedAmount).toBeLessThan(EAGER_SEND_MAX_QUEUED_BYTES + 2 * (frame.length + 14));

    client.resume();
    await sending;
    await waitFor(() => received.length === frames.length);
    expect(received.every((text) => text === frame)).toBe(true);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
