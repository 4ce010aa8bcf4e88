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
 * - {@link sharedResultReplacer} (its `jsonMessageReplacer`) replaces the
 *   payload of a `next` message that holds `data` and nothing else by a marker
 *   string, and keeps the JSON of that data, made once per data object
 *   (a `WeakMap`, so it lives as long as the result);
 * - {@link withSharedResult}, called by the server socket's `send` with the
 *   text graphql-ws made, puts the data's JSON where the marker is.
 *
 * graphql-ws calls `send` right after making the text, in the same turn;
 * a marker left behind (a socket already closed is not sent to) is dropped by
 * the next text made. The marker holds a random id drawn at start, and only
 * the payload of the message itself is replaced, as the last member of the
 * text, so nothing a client sends (an operation id) can be taken for it.
 * A `next` with errors or extensions is serialised as graphql-ws does.
 */
const MARKER = `\u0000shared-result:${randomUUID()}\u0000`;
/** How a text whose payload was replaced ends. */
const MARKED_END = `"payload":${JSON.stringify(MARKER)}}`;

const DATA_JSON = new WeakMap<object, string>();
/** The message being serialised (the replacer's first call, key ''). */
let message: unknown = undefined;
/** The data JSON the last text made stands for, until `send` takes it. */
let pending: string | null = null;

/** graphql-ws's `jsonMessageReplacer`: see the module's comment. */
export function sharedResultReplacer(this: unknown, key: string, value: unknown): unknown {
  if (key === '') {
    message = value;
    pending = null;
    return value;
  }
  if (key !== 'payload' || this !== message || (this as { type?: unknown }).type !== 'next') return value;
  const data = dataOnly(value);
  if (data === null) return value;
  let json = DATA_JSON.get(data);
  if (json === undefined) {
    json = JSON.stringify(data);
    DATA_JSON.set(data, json);
  }
  pending = json;
  return MARKER;
}

/** The frame with the shared data's JSON in place of the marker (the frame itself when it has none). */
export function withSharedResult(frame: string): string {
  const json = pending;
  pending = null;
  message = undefined;
  if (json === null || !frame.endsWith(MARKED_END)) return frame;
  return `${frame.slice(0, frame.length - MARKED_END.length)}"payload":{"data":${json}}}`;
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
