import type { UpgradeProgressMessage } from '../recorder/event-bus';
import type { ProgressFilter, ReadStore } from '../store/read-store';

/** Events read per replay query. */
const REPLAY_CHUNK = 500;

/** True when a published message concerns what the subscriber asked for. */
export function matchesProgress(filter: ProgressFilter, message: UpgradeProgressMessage): boolean {
  if (filter.taskId && message.task.id !== filter.taskId) return false;
  if (filter.gatewaySn && message.task.gatewaySn !== filter.gatewaySn) return false;
  if (filter.deviceId && message.subTask.deviceId !== filter.deviceId) return false;
  return true;
}

/** Reads recorded events after `afterId` as subscription messages (current task and sub-task state). */
async function replayChunk(store: ReadStore, afterId: number, filter: ProgressFilter): Promise<UpgradeProgressMessage[]> {
  const events = await store.progressEventsAfter(afterId, filter, REPLAY_CHUNK);
  if (events.length === 0) return [];
  const [tasks, subTasks] = await Promise.all([
    store.tasksByIds([...new Set(events.map((e) => e.taskId))]),
    store.subTasksByIds([...new Set(events.map((e) => e.subTaskId))]),
  ]);
  const taskById = new Map(tasks.map((t) => [t.id, t]));
  const subTaskById = new Map(subTasks.map((s) => [s.id, s]));
  return events.map((event) => ({ task: taskById.get(event.taskId)!, subTask: subTaskById.get(event.subTaskId)!, event }));
}

/**
 * The `upgradeProgress` stream: live messages matching `filter`, preceded,
 * when `afterId` is given, by every matching event recorded after it.
 *
 * The live source is listened to *before* the replay reads the database, so an
 * event committed meanwhile is either in the replay or in the live stream; ids
 * grow with commits, so anything the replay already yielded is skipped live.
 * No gap, no duplicate at the seam.
 */
export function progressStream(
  live: AsyncIterable<UpgradeProgressMessage>,
  store: ReadStore,
  filter: ProgressFilter,
  afterId: number | null,
): AsyncIterableIterator<UpgradeProgressMessage> {
  const iterator = live[Symbol.asyncIterator]();
  const stream = streamFrom(iterator, store, filter, afterId);
  return {
    next: () => stream.next(),
    // An async generator waiting on the live source would only see `return` at
    // its next yield, that is, at the next event; ending the source first lets
    // an idle subscription stop at once.
    return: async (value?: unknown) => {
      await iterator.return?.();
      return stream.return(value as never);
    },
    throw: (error?: unknown) => stream.throw(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* streamFrom(
  iterator: AsyncIterator<UpgradeProgressMessage>,
  store: ReadStore,
  filter: ProgressFilter,
  afterId: number | null,
): AsyncGenerator<UpgradeProgressMessage> {  // Starts listening now; the first live message is awaited after the replay.
  let pendingLive = iterator.next();
  try {
    let lastId = afterId ?? 0;
    if (afterId !== null) {
      for (;;) {
        const chunk = await replayChunk(store, lastId, filter);
        for (const message of chunk) {
          lastId = message.event.id;
          yield message;
        }
        if (chunk.length < REPLAY_CHUNK) break;
      }
    }
    for (;;) {
      const next = await pendingLive;
      if (next.done) return;
      pendingLive = iterator.next();
      const message = next.value;
      if (afterId !== null && Number(message.event.id) <= lastId) continue;
      if (matchesProgress(filter, message)) yield message;
    }
  } finally {
    await iterator.return?.();
  }
}

/** Passes on the messages of `source` that satisfy `keep`; ending it ends the source. */
export function filterStream<T>(source: AsyncIterableIterator<T>, keep: (value: T) => boolean): AsyncIterableIterator<T> {
  return {
    async next() {
      for (;;) {
        const result = await source.next();
        if (result.done || keep(result.value)) return result;
      }
    },
    return: async () => {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
