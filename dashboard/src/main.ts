/*
 * OTA Gateway dashboard: a reference for frontend teams, kept plain on
 * purpose. It lists upgrade tasks (newest first) with a live progress bar per
 * device, starts DJI and Huawei upgrades, shows the fleet's devices, and runs
 * rollouts.
 *
 *   http.ts   queries and mutations over POST /graphql (+ the token on 401)
 *   live.ts   the graphql-ws subscription, resumed with `after` on reconnect
 *   tasks.ts  the task list, merged from all three sources
 *   form.ts   the createFirmwareUpgrade form
 *   form-errors.ts  every form's server-side errors: beside the fields, and a summary
 *   huawei-form.ts  the createHuaweiUpgrade form (kind, fileId, device ids)
 *   auth.ts   the API token prompt and its sessionStorage
 *   devices.ts the Devices view: the fleet inventory, its version distribution, live
 *   socket.ts  the graphql-ws connection the Devices and Rollouts views share
 *   rollouts.ts the Rollouts view: counts, progress, Start/Pause/Resume/Cancel, live
 *   package-form.ts, rollout-form.ts  register a firmware package; start a rollout over a filter
 *   rollout-api.ts  the rollout operations and shapes
 */
import { byId, setText } from './dom';
import { setupUpgradeForm } from './form';
import { setupHuaweiUpgradeForm } from './huawei-form';
import { TASK_QUERY, TASKS_QUERY, type TaskData, type TasksData } from './graphql';
import { describeError, request } from './http';
import { startLive, type LiveState } from './live';
import { TaskList } from './tasks';
import { startDevicesView } from './devices';
import { loadModelSuggestions, setupPackageForm } from './package-form';
import { RolloutForm } from './rollout-form';
import { startRolloutsView } from './rollouts';

const PAGE_SIZE = 20;

/** How long the first list read waits for the socket before going ahead without it. */
const LIST_WAITS_FOR_SOCKET_MS = 3000;

const announcer = byId('announcer');

/** Polite announcements (new task, a device finished). Cleared first so a repeat is read again. */
function announce(text: string): void {
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = text), 50);
}

const STATE_TEXT: Readonly<Record<LiveState, string>> = {
  connecting: 'Connecting to live updates…',
  live: 'Live updates on.',
  reconnecting: 'Live updates interrupted; reconnecting…',
  token: 'Live updates are waiting for the API token.',
  stopped: 'Live updates stopped; restarting…',
};

function showState(state: LiveState, detail?: string): void {
  const line = byId('connection');
  line.dataset.state = state;
  setText(line, detail ? `${STATE_TEXT[state]} (${detail})` : STATE_TEXT[state]);
}

const tasks = new TaskList({
  container: byId('tasks'),
  empty: byId('tasks-empty'),
  announce,
  fetchTask: async (id) => (await request<TaskData>(TASK_QUERY, { id })).upgradeTask,
});

const moreButton = byId<HTMLButtonElement>('load-more');
const listError = byId('tasks-error');
let endCursor: string | null = null;
let loading = false;

/** Reads one page of the list (the first when `endCursor` is null) and merges it. */
async function loadPage(): Promise<void> {
  if (loading) return;
  loading = true;
  moreButton.setAttribute('aria-disabled', 'true'); // not `disabled`: that would drop keyboard focus
  setText(listError, '');
  try {
    const { upgradeTasks } = await request<TasksData>(TASKS_QUERY, { first: PAGE_SIZE, after: endCursor });
    tasks.addPage(
      upgradeTasks.edges.map((edge) => edge.node),
      upgradeTasks.pageInfo.hasNextPage,
    );
    endCursor = upgradeTasks.pageInfo.endCursor;
    setText(byId('tasks-empty'), 'No upgrade tasks yet.');
    setText(moreButton, 'Load older tasks');
    moreButton.hidden = !upgradeTasks.pageInfo.hasNextPage;
  } catch (error) {
    setText(listError, `Could not load the tasks: ${describeError(error)}`);
    setText(moreButton, 'Try again');
    moreButton.hidden = false;
  } finally {
    loading = false;
    moreButton.removeAttribute('aria-disabled');
  }
}

moreButton.addEventListener('click', () => void loadPage());

setupUpgradeForm((task) => tasks.addCreated(task));
setupHuaweiUpgradeForm((task) => tasks.addCreated(task));

const live = startLive({
  onProgress: ({ task, subTask }) => tasks.applyProgress(task, subTask),
  onState: showState,
});

/*
 * The first list read waits until the subscription's socket is up: events
 * recorded after the read then arrive live, and the ones that also made it
 * into the read are merged by updatedAt. (The first subscription has no
 * `after` to resume from; every later one does.) If the socket cannot be
 * opened, the list is read anyway.
 */
void Promise.race([live.connected, new Promise((resolve) => setTimeout(resolve, LIST_WAITS_FOR_SOCKET_MS))]).then(loadPage);

startDevicesView();

const rollouts = startRolloutsView({ announce });
const rolloutForm = new RolloutForm((rollout) => rollouts.upsert(rollout));
setupPackageForm(() => {
  void rolloutForm.loadPackages();
  void loadModelSuggestions();
});
void rolloutForm.loadPackages();
void loadModelSuggestions();
rolloutForm.countSoon();
