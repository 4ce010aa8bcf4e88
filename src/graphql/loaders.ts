import DataLoader from 'dataloader';
import type { ProgressEvent, UpgradeSubTask, UpgradeTask } from '../store/entities';
import type { ReadStore } from '../store/read-store';

function groupBy<T>(rows: readonly T[], keyOf: (row: T) => string, keys: readonly string[]): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((k) => groups.get(k) ?? []);
}

/**
 * Per-request batch loaders for nested fields, so that a page of tasks with
 * their sub-tasks and histories costs a fixed number of queries (no N+1).
 */
export function createLoaders(store: ReadStore) {
  return {
    task: new DataLoader<string, UpgradeTask | null>(async (ids) => {
      const rows = await store.tasksByIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    subTasksOfTask: new DataLoader<string, UpgradeSubTask[]>(async (taskIds) =>
      groupBy(await store.subTasksOfTasks(taskIds), (r) => r.taskId, taskIds),
    ),
    eventsOfSubTask: new DataLoader<string, ProgressEvent[]>(async (subTaskIds) =>
      groupBy(await store.eventsOfSubTasks(subTaskIds), (r) => r.subTaskId, subTaskIds),
    ),
  };
}

/** The loaders of one request. */
export type Loaders = ReturnType<typeof createLoaders>;
