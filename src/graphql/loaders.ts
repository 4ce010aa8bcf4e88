import DataLoader from 'dataloader';
import type { UpgradeSubTask, UpgradeTask } from '../store/entities';
import type { ChildPage, ReadStore } from '../store/read-store';
import type { PageRequest } from './pagination';

/**
 * Per-request batch loaders for nested fields, so that a page of tasks with
 * their sub-tasks and histories costs a fixed number of queries (no N+1).
 */
export function createLoaders(store: ReadStore) {
  // One batch loader per distinct page request: the same nested connection
  // (same arguments) under every task of a page is one query.
  const pageLoaders = new Map<string, DataLoader<string, ChildPage<any>>>();
  const pageLoader = <T, K>(
    kind: string,
    request: PageRequest<K>,
    read: (parentIds: readonly string[]) => Promise<Map<string, ChildPage<T>>>,
  ): DataLoader<string, ChildPage<T>> => {
    const key = JSON.stringify([kind, request]);
    let loader = pageLoaders.get(key);
    if (!loader) {
      loader = new DataLoader<string, ChildPage<T>>(async (parentIds) => {
        const pages = await read(parentIds);
        return parentIds.map((id) => pages.get(id) ?? { rows: [], hasMore: false });
      });
      pageLoaders.set(key, loader);
    }
    return loader as DataLoader<string, ChildPage<T>>;
  };
  const counts = (read: (ids: readonly string[]) => Promise<Map<string, number>>) =>
    new DataLoader<string, number>(async (ids) => {
      const byId = await read(ids);
      return ids.map((id) => byId.get(id) ?? 0);
    });
  return {
    subTask: new DataLoader<string, UpgradeSubTask | null>(async (ids) => {
      const rows = await store.subTasksByIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** A page of a task's sub-tasks, by device id. */
    subTaskPage: (taskId: string, request: PageRequest<string>) =>
      pageLoader('subTasks', request, (taskIds) =>
        store.subTaskPages(taskIds, request.size, request.after, { before: request.before, backward: request.backward }),
      ).load(taskId),
    /** A page of a sub-task's history, oldest first. */
    eventPage: (subTaskId: string, request: PageRequest<number>) =>
      pageLoader('events', request, (subTaskIds) =>
        store.eventPages(subTaskIds, request.size, request.after, { before: request.before, backward: request.backward }),
      ).load(subTaskId),
    subTaskCount: counts((ids) => store.subTaskCounts(ids)),
    eventCount: counts((ids) => store.eventCounts(ids)),
    task: new DataLoader<string, UpgradeTask | null>(async (ids) => {
      const rows = await store.tasksByIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

/** The loaders of one request. */
export type Loaders = ReturnType<typeof createLoaders>;
