import type { Writable } from 'node:stream';

/** Streams corked by {@link holdWritesForTurn}, uncorked together at the end of the turn. */
const held = new Set<Writable>();
let releaseScheduled = false;

/**
 * Holds what is written to `stream` until the end of this turn of the event
 * loop, then sends it in one write.
 *
 * Why: the writer commits a batch of messages at once and everything that
 * follows from it (a WebSocket frame per event and subscriber, a PUBACK per
 * message) is written in the turn after the commit. Unheld, each of those
 * writes is a system call of its own (ws corks and uncorks around every
 * frame), and on TCP often a segment of its own; held, a socket that gets 100
 * frames of one batch costs one `writev`. Nothing waits longer than the rest
 * of the turn: the writes go out from a `setImmediate`, before the loop next
 * waits for I/O.
 *
 * Calling it again within the turn does nothing more. A stream that is no
 * longer writable is left alone.
 */
export function holdWritesForTurn(stream: Writable): void {
  if (held.has(stream) || !stream.writable) return;
  stream.cork();
  held.add(stream);
  if (!releaseScheduled) {
    releaseScheduled = true;
    setImmediate(releaseHeldWrites);
  }
}

function releaseHeldWrites(): void {
  releaseScheduled = false;
  const streams = [...held];
  held.clear();
  // uncork() on a stream destroyed meanwhile only drops its count.
  for (const stream of streams) stream.uncork();
}
