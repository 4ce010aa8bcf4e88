/*
 * The "start a rollout" form: a name, the packages (one per model, chosen
 * from the registered ones), a filter of the inventory (the targets are the
 * devices it matches when the rollout is created), the pace and the brake,
 * and when to start. The line under the filter says how many devices match it
 * now. The gateway validates; its errors appear beside the fields.
 */
import { byId, h, setText } from './dom';
import { describeWithCode, FormErrors, type FieldError } from './form-errors';
import { request } from './http';
import {
  CREATE_ROLLOUT,
  MATCHING_DEVICES_QUERY,
  PACKAGES_QUERY,
  START_ROLLOUT,
  type PackagesData,
  type Rollout,
} from './rollout-api';

/** How many registered packages the form offers (newest first). */
const PACKAGES_SHOWN = 100;

/** Quiet time after typing in the filter before the matching devices are counted. */
const COUNT_DELAY_MS = 400;

/** The DeviceFilter fields the form offers, by the name of their control (`rollout-f-<name>`). */
const TEXT_FILTERS = ['model', 'firmwareVersion', 'firmwareVersionNot', 'deviceIdPrefix', 'gatewaySn'] as const;

/** Control ids by the server's field path. */
const CONTROLS: Readonly<Record<string, string>> = {
  name: 'rollout-name',
  packageIds: 'rollout-packages',
  target: 'rollout-filter',
  'target.filter': 'rollout-filter',
  maxInProgress: 'rollout-maxInProgress',
  maxFailurePercentage: 'rollout-maxFailurePercentage',
  minFinishedBeforeThreshold: 'rollout-minFinishedBeforeThreshold',
  attemptsPerDevice: 'rollout-attemptsPerDevice',
  startAt: 'rollout-startAt',
};

function readFilter(): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  for (const name of TEXT_FILTERS) {
    const value = byId<HTMLInputElement>(`rollout-f-${name}`).value.trim();
    if (value !== '') filter[name] = value;
  }
  const online = byId<HTMLSelectElement>('rollout-f-online').value;
  if (online === 'true' || online === 'false') filter.online = online === 'true';
  return filter;
}

export class RolloutForm {
  private readonly form = byId<HTMLFormElement>('rollout-form');
  private readonly packages = byId('rollout-packages-list');
  private readonly matching = byId('rollout-matching');
  private readonly result = byId('rollout-form-result');
  private readonly when = byId<HTMLSelectElement>('rollout-when');
  private readonly startAtField = byId('rollout-startAt-field');
  private readonly errors = new FormErrors(this.form, 'rollout-form', (field) => (CONTROLS[field] ? byId(CONTROLS[field]) : null));
  private countTimer: ReturnType<typeof setTimeout> | null = null;
  private busy = false;

  constructor(private readonly onCreated: (rollout: Rollout) => void) {
    byId('rollout-filter').addEventListener('input', () => this.countSoon());
    this.when.addEventListener('change', () => (this.startAtField.hidden = this.when.value !== 'at'));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
    this.form.addEventListener('reset', () =>
      setTimeout(() => {
        this.startAtField.hidden = true;
        this.countSoon();
      }, 0),
    );
  }

  /** Reads the registered packages again (after one is registered), keeping what was ticked. */
  async loadPackages(): Promise<void> {
    const ticked = new Set(this.tickedPackages());
    try {
      const { firmwarePackages } = await request<PackagesData>(PACKAGES_QUERY, { first: PACKAGES_SHOWN });
      const boxes = firmwarePackages.edges.map(({ node }) => {
        const id = `rollout-package-${node.id}`;
        const box = h('input', { type: 'checkbox', id, name: 'packageIds', value: node.id });
        box.checked = ticked.has(node.id);
        const model = node.modelName ? `${node.modelName} (${node.model})` : node.model;
        return h('li', {}, box, h('label', { for: id, class: 'inline' }, `${model} ${node.version}`));
      });
      this.packages.replaceChildren(...(boxes.length > 0 ? boxes : [h('li', {}, 'No package registered yet: register one above.')]));
    } catch (error) {
      this.packages.replaceChildren(h('li', { class: 'error' }, `Could not load the packages: ${describeWithCode(error)}`));
    }
  }

  private tickedPackages(): string[] {
    return [...this.form.querySelectorAll<HTMLInputElement>('input[name="packageIds"]:checked')].map((box) => box.value);
  }

  /** Counts the devices the filter matches, once typing pauses. */
  countSoon(): void {
    if (this.countTimer !== null) clearTimeout(this.countTimer);
    this.countTimer = setTimeout(() => {
      this.countTimer = null;
      void this.countMatching();
    }, COUNT_DELAY_MS);
  }

  private async countMatching(): Promise<void> {
    try {
      const { devices } = await request<{ devices: { totalCount: number } }>(MATCHING_DEVICES_QUERY, { filter: readFilter() });
      setText(this.matching, `${devices.totalCount} device${devices.totalCount === 1 ? '' : 's'} of the inventory match this filter now.`);
    } catch (error) {
      setText(this.matching, `Could not count the matching devices: ${describeWithCode(error)}`);
    }
  }

  private async submit(): Promise<void> {
    if (this.busy) return;
    this.errors.clear();
    const value = (id: string) => byId<HTMLInputElement>(id).value.trim();
    const found: FieldError[] = [];
    const whole = (field: 'maxInProgress' | 'minFinishedBeforeThreshold' | 'attemptsPerDevice'): number => {
      const text = value(`rollout-${field}`);
      if (!/^\d+$/.test(text)) found.push({ field, message: 'Enter a whole number.' });
      return Number(text);
    };
    const maxInProgress = whole('maxInProgress');
    const minFinishedBeforeThreshold = whole('minFinishedBeforeThreshold');
    const attemptsPerDevice = whole('attemptsPerDevice');
    const maxFailurePercentage = value('rollout-maxFailurePercentage');
    if (maxFailurePercentage === '' || !Number.isFinite(Number(maxFailurePercentage))) found.push({ field: 'maxFailurePercentage', message: 'Enter a number.' });
    let startAt: string | null = null;
    if (this.when.value === 'at') {
      // datetime-local is the browser's local time; the gateway takes UTC.
      const local = new Date(value('rollout-startAt'));
      if (Number.isNaN(local.getTime())) found.push({ field: 'startAt', message: 'Enter a date and time.' });
      else startAt = local.toISOString();
    }
    if (found.length > 0) return this.errors.show(null, found);

    const input = {
      name: value('rollout-name'),
      packageIds: this.tickedPackages(),
      target: { filter: readFilter() },
      maxInProgress,
      maxFailurePercentage: Number(maxFailurePercentage),
      minFinishedBeforeThreshold,
      attemptsPerDevice,
      startAt,
    };
    this.busy = true;
    setText(this.result, 'Creating the rollout…');
    try {
      let { createRollout: rollout } = await request<{ createRollout: Rollout }>(CREATE_ROLLOUT, { input });
      this.onCreated(rollout);
      if (this.when.value === 'now') {
        try {
          rollout = (await request<{ startRollout: Rollout }>(START_ROLLOUT, { id: rollout.id })).startRollout;
          this.onCreated(rollout);
        } catch (error) {
          // Created, not started: it waits in the list, where its Start button can try again.
          setText(this.result, `Rollout "${rollout.name}" was created but not started: ${describeWithCode(error)}`);
          return;
        }
      }
      const how = rollout.status === 'RUNNING' ? 'started' : rollout.startAt ? `scheduled for ${new Date(rollout.startAt).toLocaleString()}` : 'created; start it from the list';
      setText(this.result, `Rollout "${rollout.name}" ${how}: ${rollout.counts.total} device${rollout.counts.total === 1 ? '' : 's'}, ${rollout.counts.skipped} skipped.`);
      this.form.reset();
    } catch (error) {
      setText(this.result, '');
      this.errors.show(error);
    } finally {
      this.busy = false;
    }
  }
}
