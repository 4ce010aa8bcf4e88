/*
 * The task list. Tasks and their devices arrive from three places (the list
 * query, the subscription, the create mutation) in no guaranteed order, so
 * every copy is merged by one rule: the copy with the newer `updatedAt` wins.
 * Elements are created once and then only updated, so focus and screen
 * reader position survive live updates.
 */
import { h, orDash, setText } from './dom';
import { STATUS_WORDS, TERMINAL, type SubTask, type Task, type TaskWithSubTasks, type UpgradeStatus } from './graphql';

interface DeviceView {
  data: SubTask;
  bar: HTMLElement;
  fill: HTMLElement;
  percent: HTMLElement;
  status: HTMLElement;
  sourceVersion: HTMLElement;
  currentVersion: HTMLElement;
  targetVersion: HTMLElement;
  detail: HTMLElement;
}

interface TaskView {
  data: Task;
  article: HTMLElement;
  status: HTMLElement;
  progress: HTMLElement;
  counts: HTMLElement;
  rows: HTMLTableSectionElement;
  devices: Map<string, DeviceView>;
}

const SOURCE_NAMES: Readonly<Record<Task['source'], string>> = { HUAWEI: 'Huawei', DJI: 'DJI' };

/** True when `a` is at least as recent as `b` (equal: the later arrival wins). */
function notOlder(a: string, b: string): boolean {
  return Date.parse(a) >= Date.parse(b);
}

/** Newest first, like the list query: by createdAt, then id. */
function comesBefore(a: Task, b: Task): boolean {
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  return ta !== tb ? ta > tb : a.id > b.id;
}

/** The bar's value: a device that succeeded without reporting 100 still shows full. */
function percentOf(device: SubTask): number {
  const percent = device.percent ?? (device.status === 'SUCCEEDED' ? 100 : 0);
  return Math.max(0, Math.min(100, Math.round(percent)));
}

function setStatus(element: HTMLElement, attribute: string, status: UpgradeStatus): void {
  element.setAttribute(attribute, status);
  setText(element, STATUS_WORDS[status] ?? status);
}

export interface TaskListOptions {
  /** Where the articles go. */
  container: HTMLElement;
  /** Shown while there is no task. */
  empty: HTMLElement;
  /** Says something through the polite live region. */
  announce(text: string): void;
  /** Reads a whole task (all its devices); used for a task first seen through the subscription. */
  fetchTask(id: string): Promise<TaskWithSubTasks | null>;
}

export class TaskList {
  private readonly views = new Map<string, TaskView>();
  /** The oldest task loaded through the list, and whether the list has older pages. */
  private oldestLoaded: Task | null = null;
  private hasMore = false;

  constructor(private readonly options: TaskListOptions) {}

  /** Merges one page of the list query. */
  addPage(tasks: readonly TaskWithSubTasks[], hasNextPage: boolean): void {
    for (const task of tasks) this.upsert(task, task.subTasks.nodes, false);
    if (tasks.length > 0) this.oldestLoaded = tasks[tasks.length - 1];
    this.hasMore = hasNextPage;
    this.updateEmpty();
  }

  /** Merges a task the page just created. */
  addCreated(task: TaskWithSubTasks): void {
    this.upsert(task, task.subTasks.nodes, false);
    this.updateEmpty();
  }

  /**
   * Applies one subscription message. A task not on the page yet is added
   * (a new upgrade), then read in full, since a message carries one device.
   * A task older than the loaded pages is left for "Load older tasks" to bring.
   */
  applyProgress(task: Task, subTask: SubTask): void {
    const known = this.views.has(task.id);
    if (!known && this.hasMore && this.oldestLoaded && comesBefore(this.oldestLoaded, task)) return;
    this.upsert(task, [subTask], true);
    if (known) return;
    this.updateEmpty();
    this.options.announce(`New task ${task.externalId}`);
    this.options
      .fetchTask(task.id)
      .then((full) => full && this.upsert(full, full.subTasks.nodes, false))
      .catch((error: unknown) => console.warn(`could not read task ${task.id}`, error)); // its row from the message stays
  }

  private upsert(task: Task, subTasks: readonly SubTask[], live: boolean): void {
    let view = this.views.get(task.id);
    if (!view) {
      view = this.createTask(task);
      this.insertInOrder(view);
      this.views.set(task.id, view);
    } else if (notOlder(task.updatedAt, view.data.updatedAt)) {
      view.data = task;
    }
    for (const subTask of subTasks) this.upsertDevice(view, subTask, live);
    this.renderTask(view);
  }

  private upsertDevice(view: TaskView, subTask: SubTask, live: boolean): void {
    const device = view.devices.get(subTask.id);
    if (!device) {
      const created = this.createDevice(view, subTask);
      view.devices.set(subTask.id, created);
      this.renderDevice(created);
      return;
    }
    if (!notOlder(subTask.updatedAt, device.data.updatedAt)) return; // an older copy arrived late
    const before = device.data.status;
    device.data = subTask;
    this.renderDevice(device);
    // Only endings are announced: every percent would flood a screen reader.
    if (live && !TERMINAL.has(before) && TERMINAL.has(subTask.status)) {
      this.options.announce(`${subTask.deviceId}: ${STATUS_WORDS[subTask.status]}`);
    }
  }

  /** Keeps newest first: the article goes just before the newest of the tasks older than it, or last. */
  private insertInOrder(view: TaskView): void {
    let next: TaskView | null = null;
    for (const other of this.views.values()) {
      if (comesBefore(view.data, other.data) && (next === null || comesBefore(other.data, next.data))) next = other;
    }
    this.options.container.insertBefore(view.article, next ? next.article : null);
  }

  private updateEmpty(): void {
    this.options.empty.hidden = this.views.size > 0;
  }

  private createTask(task: Task): TaskView {
    const status = h('span', { class: 'status' });
    const progress = h('span');
    const counts = h('span');
    const rows = h('tbody');
    const item = (label: string, value: Node | string) => h('div', {}, h('dt', {}, label), h('dd', {}, value));
    const created = h('time', { datetime: task.createdAt }, new Date(task.createdAt).toLocaleString());
    const article = h(
      'article',
      { class: 'task', 'aria-label': `Task ${task.externalId}`, 'data-task-id': task.id },
      h('h3', {}, `${SOURCE_NAMES[task.source] ?? task.source} ${task.kind.toLowerCase()} upgrade `, h('code', {}, task.externalId)),
      h(
        'dl',
        { class: 'task-meta' },
        item('Status', status),
        item('Overall progress', progress),
        item('Devices', counts),
        item('Gateway', orDash(task.gatewaySn)),
        item('Created', created),
      ),
      // A wide table scrolls inside its own box on small screens (current
      // browsers let the keyboard reach a box that scrolls; making every box a
      // tab stop would add one per task even where nothing scrolls).
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, `Devices of task ${task.externalId}`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Device', 'Progress', 'Status', 'From version', 'Current version', 'Target version', 'Detail'].map((title) =>
                h('th', { scope: 'col' }, title),
              ),
            ),
          ),
          rows,
        ),
      ),
    );
    return { data: task, article, status, progress, counts, rows, devices: new Map() };
  }

  private renderTask(view: TaskView): void {
    const { data } = view;
    // data-task-status, not data-status: data-status marks the device rows.
    setStatus(view.status, 'data-task-status', data.status);
    setText(view.progress, data.progress === null ? '—' : `${data.progress}%`);
    // Counted here from the rows shown, so it follows live updates.
    const counts = new Map<UpgradeStatus, number>();
    for (const device of view.devices.values()) counts.set(device.data.status, (counts.get(device.data.status) ?? 0) + 1);
    const parts = [...counts].map(([status, count]) => `${count} ${STATUS_WORDS[status]}`);
    setText(view.counts, `${view.devices.size} (${parts.join(', ')})`);
  }

  private createDevice(view: TaskView, subTask: SubTask): DeviceView {
    const fill = h('div', { class: 'bar-fill' });
    // The progressbar is named by the device id, so tests and screen readers
    // find "the progress of device X".
    const bar = h(
      'div',
      { class: 'bar', role: 'progressbar', 'aria-label': subTask.deviceId, 'aria-valuemin': '0', 'aria-valuemax': '100' },
      fill,
    );
    // The number is visible for sighted users; the progressbar already says it.
    const percent = h('span', { class: 'percent', 'aria-hidden': 'true' });
    const device: DeviceView = {
      data: subTask,
      bar,
      fill,
      percent,
      status: h('span', { class: 'status' }),
      sourceVersion: h('td'),
      currentVersion: h('td'),
      targetVersion: h('td'),
      detail: h('td', { class: 'detail' }),
    };
    view.rows.append(
      h(
        'tr',
        { 'data-subtask-id': subTask.id },
        h('th', { scope: 'row', class: 'device-id' }, h('code', {}, subTask.deviceId)),
        h('td', { class: 'progress-cell' }, bar, percent),
        h('td', {}, device.status),
        device.sourceVersion,
        device.currentVersion,
        device.targetVersion,
        device.detail,
      ),
    );
    return device;
  }

  private renderDevice(device: DeviceView): void {
    const { data } = device;
    const percent = percentOf(data);
    device.bar.setAttribute('aria-valuenow', String(percent));
    // Colours the bar (the words say the same). Not data-status: that one marks
    // the status text alone, so `[data-status]` finds exactly one element per row.
    device.bar.dataset.barStatus = data.status;
    // Set through CSSOM: the CSP forbids inline style attributes, not this.
    device.fill.style.width = `${percent}%`;
    setText(device.percent, `${percent}%`);
    setStatus(device.status, 'data-status', data.status);
    setText(device.sourceVersion, orDash(data.sourceVersion));
    setText(device.currentVersion, orDash(data.currentVersion));
    setText(device.targetVersion, orDash(data.targetVersion));
    const detail = [
      data.step && `Step: ${data.step}`,
      data.vendorStatus && `Vendor status: ${data.vendorStatus}`,
      data.errorCode && `Error ${data.errorCode}`,
      data.statusDesc,
    ].filter(Boolean);
    setText(device.detail, detail.length > 0 ? detail.join(' · ') : '—');
  }
}
