import { randomUUID } from 'node:crypto';

/**
 * One JSON text per shared execution result, however many subscribers it goes to.
 *
 * Subscribers of one document share each event's `ExecutionResult` (see
 * src/graphql/shared-execution.ts), but graphql-ws serialises every `next`
 * message whole, the result's data included, once per subscriber: with 1 000
 * dashboards that was a thousand `JSON.stringify` calls of the same data per
 * event, the largest single function of the fleet bench's main thread (4 %).
 * graphql-ws has no hook that takes ready JSON; it has `jsonMessageReplacer`
 * and hands the text straight to the socket's `send`. So:
 *
 * - {@link sharedResultReplacer} (its `jsonMessageReplacer`) is handed the
 *   message first, as the root of the text (key `''`). For a `next` message
 *   that holds an id and a payload of `data` and nothing else, it makes the
 *   whole text itself, from the data's JSON made once per data object (a
 *   `WeakMap`, so it lives as long as the result), and returns a marker
 *   string in its place: `JSON.stringify` then walks nothing, where it used
 *   to walk the message calling the replacer for every member.
 * - {@link withSharedResult}, called by the server socket's `send` with the
 *   text graphql-ws made, returns the text made for it when that text is the
 *   marker.
 *
 * graphql-ws calls `send` right after making the text, in the same turn;
 * a text left behind (a socket already closed is not sent to) is dropped when
 * the next one is made. The marker holds a random id drawn at start and is a
 * whole text no message can serialise to (a message is an object), so
 * nothing a client sends (an operation id) can be taken for it.
 * A `next` with errors or extensions is serialised as graphql-ws does.
 */
const MARKER = `\u0000shared-result:${randomUUID()}\u0000`;
/** The text `JSON.stringify` makes of a message the replacer stood the marker in for. */
const MARKER_TEXT = JSON.stringify(MARKER);

const DATA_JSON = new WeakMap<object, string>();
/** The text of the last message the marker stood in for, until `send` takes it. */
let pending: string | null = null;

/** graphql-ws's `jsonMessageReplacer`: see the module's comment. */
export function sharedResultReplacer(this: unknown, key: string, value: unknown): unknown {
  if (key !== '') return value;
  pending = null;
  const data = sharedNextData(value);
  if (data === null) return value;
  let json = DATA_JSON.get(data);
  if (json === undefined) {
    json = JSON.stringify(data);
    DATA_JSON.set(data, json);
  }
  // Members in the order graphql-ws writes them: id, type, payload.
  pending = `{"id":${JSON.stringify((value as { id: string }).id)},"type":"next","payload":{"data":${json}}}`;
  return MARKER;
}

/** The text made for the message the frame stands for (the frame itself when it is not the marker). */
export function withSharedResult(frame: string): string {
  const text = pending;
  pending = null;
  return text !== null && frame === MARKER_TEXT ? text : frame;
}

/**
 * The data of a message `{ id, type: 'next', payload: { data } }` with no
 * other member, when that data is an object (so that it can be shared and
 * its JSON kept); null for any other message.
 */
function sharedNextData(message: unknown): object | null {
  if (message === null || typeof message !== 'object') return null;
  const { id, type, payload } = message as { id?: unknown; type?: unknown; payload?: unknown };
  if (type !== 'next' || typeof id !== 'string') return null;
  for (const key in message) {
    if (Object.hasOwn(message, key) && key !== 'id' && key !== 'type' && key !== 'payload') return null;
  }
  return dataOnly(payload);
}

/** The `data` of a payload `{ data }` with nothing else, when it is an object; null otherwise. */
function dataOnly(payload: unknown): object | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  let data: unknown = null;
  for (const key in payload) {
    if (!Object.hasOwn(payload, key)) continue;
    if (key !== 'data') return null;
    data = (payload as { data: unknown }).data;
  }
  return data !== null && typeof data === 'object' && typeof (data as { toJSON?: unknown }).toJSON !== 'function' ? data : null;
}
