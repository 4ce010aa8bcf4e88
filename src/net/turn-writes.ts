import type { Writable } from 'node:stream';

/** Streams written to in this turn of the event loop. */
const written = new Set<Writable>();
/** Those of them corked for the rest of the turn. */
const held = new Set<Writable>();
let endOfTurnScheduled = false;

/**
 * Called before each write to `stream`: the first write of a turn goes out at
 * once, every further one of the same turn is held and sent with the others
 * in one write when the turn ends.
 *
 * Why: the writer commits a batch of messages at once and everything that
 * follows from it (a WebSocket frame per event and subscriber, a PUBACK per
 * message) is written in the turn after the commit. Unheld, each of those
 * writes is a system call of its own (ws corks and uncorks around every
 * frame), and on TCP often a segment of its own; held, a socket that gets 100
 * frames of one batch costs two writes. The first goes out at once so that a
 * socket that gets one frame (a subscriber of one task) is not made to wait
 * for the thousand others written in the same turn. Nothing waits longer than
 * the rest of the turn: held writes go out from a `setImmediate`, before the
 * loop next waits for I/O.
 *
 * A stream that is no longer writable is left alone.
 */
export function coalesceWritesOfTurn(stream: Writable): void {
  if (!stream.writable || held.has(stream)) return;
  if (!written.has(stream)) {
    written.add(stream);
    if (!endOfTurnScheduled) {
      endOfTurnScheduled = true;
      setImmediate(endTurn);
    }
    return;
  }
  stream.cork();
  held.add(stream);
}

function endTurn(): void {
  endOfTurnScheduled = false;
  written.clear();
  const streams = [...held];
  held.clear();
  // uncork() on a stream ended or destroyed meanwhile only drops its count.
  for (const stream of streams) stream.uncork();
}
