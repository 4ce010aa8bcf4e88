/*
 * The Rollouts view: each rollout (newest first) with its status, a progress
 * bar, its counts, its settings and the commands its status allows (Start,
 * Pause, Resume, Cancel, Retry failures), kept live by `rolloutChanged`.
 * Copies of a rollout arrive from the list, the subscription and the
 * commands' answers in no fixed order: the one with the newer `updatedAt`
 * wins. Elements are created once and updated in place, so focus and screen
 * reader position survive live updates.
 */
import { byId, h, orDash, setText } from './dom';
import { describeWithCode } from './form-errors';
import { request } from './http';
import {
  COMMAND_MUTATIONS,
  commandAllowed,
  ROLLOUT_CHANGED_SUBSCRIPTION,
  ROLLOUT_QUERY,
  ROLLOUT_STATUS_WORDS,
  ROLLOUT_TARGETS_QUERY,
  ROLLOUTS_QUERY,
  TARGET_STATUS_WORDS,
  type Rollout,
  type RolloutCommand,
  type RolloutCounts,
  type RolloutsData,
  type RolloutTargetsData,
} from './rollout-api';
import { firstConnection, onReconnected, subscribeForever } from './socket';

const PAGE_SIZE = 20;

/** The first page of a rollout's devices. */
const TARGETS_SHOWN = 50;

/** How often at most an open device list is read again while its rollout changes. */
const TARGETS_REFRESH_MS = 1000;

const COMMANDS: readonly { command: RolloutCommand; label: string; secondary?: boolean }[] = [
  { command: 'start', label: 'Start' },
  { command: 'pause', label: 'Pause' },
  { command: 'resume', label: 'Resume' },
  { command: 'cancel', label: 'Cancel', secondary: true },
  { command: 'retryFailures', label: 'Retry failures', secondary: true },
];

const COUNT_LABELS: readonly { key: keyof RolloutCounts; label: string }[] = [
  { key: 'total', label: 'Devices' },
  { key: 'queued', label: 'Queued' },
  { key: 'inProgress', label: 'In progress' },
  { key: 'succeeded', label: 'Succeeded' },
  { key: 'failed', label: 'Failed' },
  { key: 'skipped', label: 'Skipped' },
  { key: 'canceled', label: 'Canceled' },
];

interface RolloutCard {
  data: Rollout;
  article: HTMLElement;
  heading: HTMLElement;
  status: HTMLElement;
  bar: HTMLElement;
  fill: HTMLElement;
  percent: HTMLElement;
  counts: Record<keyof RolloutCounts, HTMLElement>;
  settings: HTMLElement;
  dates: HTMLElement;
  buttons: Map<RolloutCommand, HTMLButtonElement>;
  error: HTMLElement;
  targets: TargetList;
}

/** True when `a` is at least as recent as `b` (equal: the later arrival wins). */
function notOlder(a: string, b: string): boolean {
  return Date.parse(a) >= Date.parse(b);
}

/** Newest first, like the list query: by createdAt, then id. */
function comesBefore(a: Rollout, b: Rollout): boolean {
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  return ta !== tb ? ta > tb : a.id > b.id;
}

function statusText(rollout: Rollout): string {
  const word = ROLLOUT_STATUS_WORDS[rollout.status] ?? rollout.status;
  if (rollout.status !== 'PAUSED' || rollout.pauseReason === null) return word;
  return rollout.pauseReason === 'FAILURE_THRESHOLD' ? `${word} by the failure brake` : `${word} by an operator`;
}

const when = (iso: string | null) => (iso === null ? null : new Date(iso).toLocaleString());

/**
 * The first page of a rollout's devices, with a status filter, read when the
 * list is opened and again (at most once a second) while the rollout changes.
 */
class TargetList {
  readonly details: HTMLDetailsElement;
  private readonly filter: HTMLSelectElement;
  private readonly rows: HTMLTableSectionElement;
  private readonly summary: HTMLElement;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly rolloutId: string, name: string) {
    const filterId = `rollout-${rolloutId}-target-status`;
    this.filter = h(
      'select',
      { id: filterId },
      h('option', { value: '' }, 'Any status'),
      ...Object.entries(TARGET_STATUS_WORDS).map(([value, word]) => h('option', { value }, word)),
    );
    this.rows = h('tbody');
    this.summary = h('p', { role: 'status' });
    this.details = h(
      'details',
      { class: 'rollout-targets' },
      h('summary', {}, 'Devices of this rollout'),
      h('div', { class: 'field inline-field' }, h('label', { for: filterId }, 'Show devices that are'), this.filter),
      this.summary,
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, `Devices of rollout ${name}`),
          h(
            'thead',
            {},
            h('tr', {}, ...['Serial number', 'Model', 'Status', 'Attempts', 'Last error or reason'].map((title) => h('th', { scope: 'col' }, title))),
          ),
          this.rows,
        ),
      ),
    );
    this.details.addEventListener('toggle', () => this.details.open && void this.load());
    this.filter.addEventListener('change', () => void this.load());
  }

  /** The rollout changed: read the list again soon, if it is open. */
  changed(): void {
    if (!this.details.open) return;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.load();
    }, TARGETS_REFRESH_MS);
  }

  private async load(): Promise<void> {
    try {
      const status = this.filter.value === '' ? null : this.filter.value;
      const { rollout } = await request<RolloutTargetsData>(ROLLOUT_TARGETS_QUERY, { id: this.rolloutId, first: TARGETS_SHOWN, status });
      if (!rollout) return setText(this.summary, 'This rollout no longer exists.');
      const { totalCount, edges } = rollout.targets;
      this.rows.replaceChildren(
        ...edges.map(({ node }) =>
          h(
            'tr',
            { 'data-device-id': node.deviceId },
            h('th', { scope: 'row', class: 'device-id' }, node.deviceId),
            h('td', {}, orDash(node.model)),
            h('td', { class: 'status', 'data-status': node.status }, TARGET_STATUS_WORDS[node.status] ?? node.status),
            h('td', {}, String(node.attempts)),
            h('td', { class: 'detail' }, orDash(node.lastError)),
          ),
        ),
      );
      setText(this.summary, totalCount > edges.length ? `${totalCount} devices; the first ${edges.length} shown.` : `${totalCount} device${totalCount === 1 ? '' : 's'}.`);
    } catch (error) {
      setText(this.summary, `Could not load the devices: ${describeWithCode(error)}`);
    }
  }
}

export interface RolloutListOptions {
  /** Says something through the polite live region. */
  announce(text: string): void;
}

export class RolloutList {
  private readonly cards = new Map<string, RolloutCard>();
  private oldestLoaded: Rollout | null = null;
  private hasMore = false;
  private endCursor: string | null = null;
  private loading = false;

  private readonly container = byId('rollouts');
  private readonly empty = byId('rollouts-empty');
  private readonly error = byId('rollouts-error');
  private readonly more = byId<HTMLButtonElement>('rollouts-more');

  constructor(private readonly options: RolloutListOptions) {
    this.more.addEventListener('click', () => void this.loadPage());
  }

  /** Reads the first page again (on start, and after the socket reconnected). */
  async reload(): Promise<void> {
    this.endCursor = null;
    await this.loadPage();
  }

  private async loadPage(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    this.more.setAttribute('aria-disabled', 'true'); // not `disabled`: that would drop keyboard focus
    setText(this.error, '');
    try {
      const { rollouts } = await request<RolloutsData>(ROLLOUTS_QUERY, { first: PAGE_SIZE, after: this.endCursor });
      const nodes = rollouts.edges.map((edge) => edge.node);
      for (const rollout of nodes) this.upsert(rollout);
      if (nodes.length > 0 && (this.oldestLoaded === null || comesBefore(this.oldestLoaded, nodes[nodes.length - 1]))) this.oldestLoaded = nodes[nodes.length - 1];
      this.hasMore = rollouts.pageInfo.hasNextPage;
      this.endCursor = rollouts.pageInfo.endCursor;
      this.more.hidden = !this.hasMore;
      setText(this.empty, this.cards.size === 0 ? 'No rollouts yet.' : '');
    } catch (error) {
      setText(this.error, `Could not load the rollouts: ${describeWithCode(error)}`);
    } finally {
      this.loading = false;
      this.more.removeAttribute('aria-disabled');
    }
  }

  /** A rollout from the subscription: one older than the loaded pages is left for "Load older rollouts". */
  applyChange(rollout: Rollout): void {
    if (!this.cards.has(rollout.id) && this.hasMore && this.oldestLoaded && comesBefore(this.oldestLoaded, rollout)) return;
    this.upsert(rollout);
  }

  /** Merges any copy of a rollout: creates its card, or updates it when the copy is not older. */
  upsert(rollout: Rollout): void {
    const card = this.cards.get(rollout.id);
    if (!card) {
      const created = this.createCard(rollout);
      this.cards.set(rollout.id, created);
      this.insertInOrder(created);
      this.render(created);
      setText(this.empty, '');
      return;
    }
    if (!notOlder(rollout.updatedAt, card.data.updatedAt)) return;
    const before = card.data.status;
    card.data = rollout;
    this.render(card);
    card.targets.changed();
    if (before !== rollout.status) this.options.announce(`Rollout ${rollout.name}: ${statusText(rollout)}`);
  }

  private insertInOrder(card: RolloutCard): void {
    const next = [...this.cards.values()].filter((other) => other !== card && comesBefore(card.data, other.data)).sort((a, b) => (comesBefore(a.data, b.data) ? -1 : 1))[0];
    if (next) this.container.insertBefore(card.article, next.article);
    else this.container.append(card.article);
  }

  private createCard(rollout: Rollout): RolloutCard {
    const headingId = `rollout-${rollout.id}-name`;
    const status = h('span', { class: 'status' });
    const fill = h('span', { class: 'bar-fill' });
    const bar = h('span', { class: 'bar', role: 'progressbar', 'aria-label': `Progress of ${rollout.name}`, 'aria-valuemin': '0', 'aria-valuemax': '100' }, fill);
    const percent = h('span', { class: 'percent', 'aria-hidden': 'true' });
    const counts = Object.fromEntries(COUNT_LABELS.map(({ key }) => [key, h('dd', { 'data-count': key })])) as Record<keyof RolloutCounts, HTMLElement>;
    const error = h('p', { class: 'error', role: 'alert' });
    const buttons = new Map<RolloutCommand, HTMLButtonElement>();
    for (const { command, label, secondary } of COMMANDS) {
      const button = h('button', { type: 'button', 'data-command': command, ...(secondary ? { class: 'secondary' } : {}) }, label);
      button.addEventListener('click', () => void this.run(rollout.id, command));
      buttons.set(command, button);
    }
    const settings = h('p', { class: 'rollout-settings' });
    const dates = h('p', { class: 'rollout-dates hint' });
    const targets = new TargetList(rollout.id, rollout.name);
    const heading = h('h3', { id: headingId, tabindex: '-1' }, rollout.name);
    const article = h(
      'article',
      { class: 'rollout', 'aria-labelledby': headingId, 'data-rollout-id': rollout.id },
      heading,
      h('p', { class: 'rollout-progress' }, status, ' ', bar, percent),
      h('dl', { class: 'rollout-counts' }, ...COUNT_LABELS.flatMap(({ key, label }) => [h('div', {}, h('dt', {}, label), counts[key])])),
      settings,
      dates,
      h('div', { class: 'rollout-actions', role: 'group', 'aria-label': `Commands for ${rollout.name}` }, ...buttons.values()),
      error,
      targets.details,
    );
    return { data: rollout, article, heading, status, bar, fill, percent, counts, settings, dates, buttons, error, targets };
  }

  private render(card: RolloutCard): void {
    const rollout = card.data;
    card.status.dataset.rolloutStatus = rollout.status;
    setText(card.status, statusText(rollout));
    const progress = Math.max(0, Math.min(100, Math.round(rollout.progress)));
    card.bar.setAttribute('aria-valuenow', String(progress));
    card.bar.dataset.barStatus = rollout.status;
    card.fill.style.width = `${progress}%`;
    setText(card.percent, `${progress} %`);
    for (const { key } of COUNT_LABELS) setText(card.counts[key], String(rollout.counts[key]));
    const packages = rollout.packages.map((p) => `${p.modelName ?? p.model} ${p.version}`).join(', ');
    setText(
      card.settings,
      `Packages: ${orDash(packages)}. At most ${rollout.maxInProgress} at once; pauses when more than ${rollout.maxFailurePercentage} % of the finished devices failed ` +
        `(judged once ${rollout.minFinishedBeforeThreshold} have finished); ${rollout.attemptsPerDevice} attempt${rollout.attemptsPerDevice === 1 ? '' : 's'} per device.`,
    );
    const dates = [
      `Created ${when(rollout.createdAt)}`,
      rollout.startAt && !rollout.startedAt ? `starts by itself at ${when(rollout.startAt)}` : null,
      rollout.startedAt ? `started ${when(rollout.startedAt)}` : null,
      rollout.finishedAt ? `finished ${when(rollout.finishedAt)}` : null,
    ].filter((part) => part !== null);
    setText(card.dates, `${dates.join(', ')}.`);
    const focused = document.activeElement;
    for (const [command, button] of card.buttons) button.disabled = !commandAllowed(command, rollout);
    // A disabled button loses keyboard focus to the page: keep it in this
    // rollout's commands (Pause → Resume), or on its name when none is left.
    if (focused instanceof HTMLButtonElement && focused.disabled && [...card.buttons.values()].includes(focused)) {
      ([...card.buttons.values()].find((button) => !button.disabled) ?? card.heading).focus();
    }
  }

  /** Sends a command; the answer is the rollout as it now stands, and an error is shown with its code. */
  private async run(id: string, command: RolloutCommand): Promise<void> {
    const card = this.cards.get(id);
    if (!card) return;
    const button = card.buttons.get(command)!;
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    setText(card.error, '');
    const { field, query } = COMMAND_MUTATIONS[command];
    try {
      const data = await request<Record<string, Rollout>>(query, { id });
      this.upsert(data[field]);
    } catch (error) {
      setText(card.error, `${button.textContent ?? command} failed: ${describeWithCode(error)}`);
      // The refusal often means the page is behind (someone else paused or
      // canceled it): read the rollout again so the buttons match its status.
      request<{ rollout: Rollout | null }>(ROLLOUT_QUERY, { id })
        .then(({ rollout }) => rollout && this.upsert(rollout))
        .catch(() => {}); // the error shown above stays; the next live change brings the rest
    } finally {
      button.removeAttribute('aria-disabled');
    }
  }
}

/** Starts the view: the first page and the live subscription. */
export function startRolloutsView(options: RolloutListOptions): RolloutList {
  const list = new RolloutList(options);
  subscribeForever<{ rolloutChanged: Rollout }>(ROLLOUT_CHANGED_SUBSCRIPTION, {}, (data) => list.applyChange(data.rolloutChanged));
  void firstConnection().then(() => list.reload());
  onReconnected(() => void list.reload());
  return list;
}
