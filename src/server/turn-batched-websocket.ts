import type { Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { coalesceWritesOfTurn } from '../net/turn-writes';
import { withSharedResult } from './shared-result-json';

/**
 * Bytes a socket may hold queued before `send` waits for the network again
 * (see {@link TurnBatchedWebSocket}): 64 KiB per socket, 64 MB for 1 000 sockets
 * that all stopped reading at once, on top of each subscriber's bounded buffer.
 */
export const EAGER_SEND_MAX_QUEUED_BYTES = 64 * 1024;

type SendOptions = Parameters<WebSocket['send']>[1];
type SendCallback = (error?: Error) => void;

/**
 * The server's WebSocket class (ws's `WebSocket` option). Two changes to
 * sending, both for subscriptions that receive many events at once (a batch
 * the writer committed):
 *
 * - `send` calls back as soon as the frame is queued, while the socket holds
 *   less than {@link EAGER_SEND_MAX_QUEUED_BYTES} not yet written; beyond
 *   that, only once it is written, as ws does. graphql-ws waits for that
 *   callback before it sends a subscription's next result, so with ws's own
 *   timing each frame went out alone, one system call each, one per tick.
 *   A socket that does not read still stops its subscription's results (and
 *   then fills that subscriber's bounded buffer, see src/server/pubsub.ts).
 * - A socket's first frame of a turn goes out at once, the rest of that turn's
 *   frames together in one write ({@link coalesceWritesOfTurn}).
 *
 * It also completes the texts whose shared result graphql-ws left out
 * ({@link withSharedResult}).
 *
 * A write that fails after its early callback needs no report: the socket
 * errors and closes, and graphql-ws ends its subscriptions on close.
 */
export class TurnBatchedWebSocket extends WebSocket {
  private connection: Writable | null = null;

  /** Called with the upgraded HTTP connection this WebSocket writes to. */
  writesTo(connection: Writable): void {
    this.connection = connection;
  }

  override send(frame: Parameters<WebSocket['send']>[0], optionsOrCallback?: SendOptions | SendCallback, callback?: SendCallback): void {
    // A text graphql-ws made with sharedResultReplacer gets its shared data here.
    const data = typeof frame === 'string' ? withSharedResult(frame) : frame;
    const options = typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {});
    const done = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback;
    if (this.connection && this.readyState === WebSocket.OPEN) coalesceWritesOfTurn(this.connection);
    if (done === undefined || this.readyState !== WebSocket.OPEN || this.bufferedAmount >= EAGER_SEND_MAX_QUEUED_BYTES) {
      super.send(data, options, done);
      return;
    }
    super.send(data, options, ignoreWriteError);
    queueMicrotask(() => done());
  }
}

function ignoreWriteError(): void {
  /* the socket closes on it, see TurnBatchedWebSocket */
}
