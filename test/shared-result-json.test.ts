/**
 * A shared execution result's data is serialised once, and every frame still
 * reads exactly as graphql-ws would have written it without the replacer.
 */
import { MessageType, stringifyMessage, type Message } from 'graphql-ws';
import { sharedResultReplacer, withSharedResult } from '../src/server/shared-result-json';

/** What the server socket sends for a message: graphql-ws's text, completed by the socket. */
const frame = (message: Message) => withSharedResult(stringifyMessage(message, sharedResultReplacer));

const data = () => Object.assign(Object.create(null) as object, { upgradeProgress: { task: { id: 't-1', status: 'IN_PROGRESS', progress: 40 }, subTask: { deviceId: 'dock-"1"\u2028' } } });

test('a next message with data only reads as graphql-ws writes it', () => {
  const message: Message = { id: 'sub-1', type: MessageType.Next, payload: { data: data() as never } };
  expect(frame(message)).toBe(JSON.stringify(message));
  expect(JSON.parse(frame(message))).toEqual(JSON.parse(JSON.stringify(message)));
});

test('the data of one result is serialised once for all its subscribers', () => {
  const shared = data();
  const spy = jest.spyOn(JSON, 'stringify');
  const frames = ['1', '2', '3'].map((id) => frame({ id, type: MessageType.Next, payload: { data: shared as never } }));
  const serialised = spy.mock.calls.filter(([value]) => value === shared).length;
  spy.mockRestore();
  expect(serialised).toBe(1);
  expect(frames).toEqual(['1', '2', '3'].map((id) => JSON.stringify({ id, type: 'next', payload: { data: shared } })));
});

test('messages with errors, extensions or no data, and every other type, are left to graphql-ws', () => {
  const messages: Message[] = [
    { id: 'a', type: MessageType.Next, payload: { data: data() as never, errors: [{ message: 'boom', locations: [], path: ['x'] } as never] } },
    { id: 'b', type: MessageType.Next, payload: { data: null, errors: [{ message: 'no data' } as never] } },
    { id: 'c', type: MessageType.Next, payload: { data: data() as never, extensions: { cost: 3 } } },
    { id: 'd', type: MessageType.Error, payload: [{ message: 'refused' } as never] },
    { id: 'e', type: MessageType.Complete },
    { type: MessageType.Pong, payload: { payload: { data: { x: 1 } }, type: 'next' } },
    { type: MessageType.ConnectionAck },
  ];
  for (const message of messages) expect(frame(message)).toBe(JSON.stringify(message));
});

test('an id a client chose, however it looks, is never taken for the shared data', () => {
  const shared = data();
  for (const id of ['\u0000shared-result:\u0000', '"payload":"x"}', 'payload', '\u0000'.repeat(3)]) {
    const message: Message = { id, type: MessageType.Next, payload: { data: shared as never } };
    expect(frame(message)).toBe(JSON.stringify(message));
  }
});

test('a text made for a socket that was not sent to leaves nothing behind for the next', () => {
  // graphql-ws does not call send for a socket already closed: the next text is complete on its own.
  stringifyMessage({ id: 'gone', type: MessageType.Next, payload: { data: data() as never } }, sharedResultReplacer);
  const complete: Message = { id: 'other', type: MessageType.Complete };
  expect(frame(complete)).toBe(JSON.stringify(complete));
  expect(withSharedResult('{"type":"pong"}')).toBe('{"type":"pong"}');
});
