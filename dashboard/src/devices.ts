/*
 * The Devices view: the fleet inventory as a filterable, paged table (online
 * dot, model, firmware version, "needs consistency upgrade") and the version
 * distribution per model as bar charts, both kept live by the `deviceChanged`
 * subscription. Rows are created once and then updated in place, so focus
 * and screen reader position survive live updates.
 */
import { byId, h, orDash, setText } from './dom';
import { describeError, request } from './http';
import { firstConnection, onReconnected, subscribeForever } from './socket';

const DEVICE_FIELDS = `id source deviceId gatewaySn model modelName firmwareVersion softwareVersion consistencyUpgradeNeeded upgrading online lastSeenAt`;

export const DEVICES_QUERY = `query Devices($first: Int, $after: String, $filter: DeviceFilter) {
  devices(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${DEVICE_FIELDS} } }
  }
}`;

export const FIRMWARE_VERSIONS_QUERY = `query FirmwareVersions($source: UpgradeSource) {
  firmwareVersions(source: $source) { model modelName firmwareVersion count }
}`;

export const DEVICE_CHANGED_SUBSCRIPTION = `subscription DeviceChanged { deviceChanged { ${DEVICE_FIELDS} } }`;

export interface Device {
  id: string;
  source: 'DJI' | 'HUAWEI';
  deviceId: string;
  gatewaySn: string | null;
  model: string | null;
  modelName: string | null;
  firmwareVersion: string | null;
  softwareVersion: string | null;
  consistencyUpgradeNeeded: boolean | null;
  upgrading: boolean;
  online: boolean | null;
  lastSeenAt: string;
}

interface DevicesData {
  devices: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Device }[] };
}

interface VersionCount {
  model: string | null;
  modelName: string | null;
  firmwareVersion: string | null;
  count: number;
}

const PAGE_SIZE = 50;

/** How often at most the distribution is read again while devices change. */
const DISTRIBUTION_REFRESH_MS = 2000;

interface Row {
  data: Device;
  tr: HTMLTableRowElement;
  cells: Record<'online' | 'model' | 'gateway' | 'firmware' | 'software' | 'consistency' | 'upgrading' | 'seen', HTMLElement>;
}

/** The filter as the form holds it; empty fields are left out. */
function readFilter(form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const filter: Record<string, unknown> = {};
  for (const name of ['source', 'model', 'firmwareVersion', 'firmwareVersionNot', 'gatewaySn', 'deviceIdPrefix']) {
    const value = String(data.get(name) ?? '').trim();
    if (value !== '') filter[name] = value;
  }
  for (const name of ['online', 'consistencyUpgradeNeeded', 'upgrading']) {
    const value = String(data.get(name) ?? '');
    if (value === 'true' || value === 'false') filter[name] = value === 'true';
  }
  return filter;
}

/** True when the device passes the filter (for devices arriving live). */
function matches(device: Device, filter: Record<string, unknown>): boolean {
  const checks: [string, unknown][] = [
    ['source', device.source],
    ['model', device.model],
    ['firmwareVersion', device.firmwareVersion],
    ['gatewaySn', device.gatewaySn],
    ['online', device.online],
    ['consistencyUpgradeNeeded', device.consistencyUpgradeNeeded],
    ['upgrading', device.upgrading],
  ];
  if (checks.some(([name, value]) => name in filter && filter[name] !== value)) return false;
  if ('firmwareVersionNot' in filter && device.firmwareVersion === filter.firmwareVersionNot) return false;
  if ('deviceIdPrefix' in filter && !device.deviceId.startsWith(String(filter.deviceIdPrefix))) return false;
  return true;
}

function onlineWord(online: boolean | null): string {
  return online === null ? 'Unknown' : online ? 'Online' : 'Offline';
}

function modelText(device: Device): string {
  if (device.model === null) return '—';
  return device.modelName ? `${device.modelName} (${device.model})` : device.model;
}

/**
 * A bar's fill at `percent` wide. The width is set through CSSOM: the page's
 * CSP (style-src 'self') blocks a `style` attribute, and logs each one.
 */
function barFill(percent: number): HTMLElement {
  const fill = h('span', { class: 'version-bar-fill' });
  fill.style.width = `${percent}%`;
  return fill;
}

export class DevicesView {
  private readonly rows = new Map<string, Row>();
  private filter: Record<string, unknown> = {};
  private endCursor: string | null = null;
  private loading = false;
  private distributionTimer: ReturnType<typeof setTimeout> | null = null;

  private readonly form = byId<HTMLFormElement>('devices-filter');
  private readonly body = byId('devices-rows');
  private readonly more = byId<HTMLButtonElement>('devices-more');
  private readonly error = byId('devices-error');
  private readonly summary = byId('devices-summary');
  private readonly chart = byId('versions-chart');

  constructor() {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.filter = readFilter(this.form);
      void this.reload();
    });
    this.form.addEventListener('reset', () => {
      this.filter = {};
      setTimeout(() => void this.reload(), 0);
    });
    this.more.addEventListener('click', () => void this.loadPage());
  }

  /** Reads the first page for the current filter, and the distribution. */
  async reload(): Promise<void> {
    this.rows.clear();
    this.body.replaceChildren();
    this.endCursor = null;
    await Promise.all([this.loadPage(), this.loadDistribution()]);
  }

  private async loadPage(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    this.more.setAttribute('aria-disabled', 'true');
    setText(this.error, '');
    try {
      const { devices } = await request<DevicesData>(DEVICES_QUERY, { first: PAGE_SIZE, after: this.endCursor, filter: this.filter });
      for (const { node } of devices.edges) this.upsert(node, true);
      this.endCursor = devices.pageInfo.endCursor;
      this.more.hidden = !devices.pageInfo.hasNextPage;
      setText(this.summary, `${devices.totalCount} device${devices.totalCount === 1 ? '' : 's'} match; ${this.rows.size} shown.`);
    } catch (error) {
      setText(this.error, `Could not load the devices: ${describeError(error)}`);
    } finally {
      this.loading = false;
      this.more.removeAttribute('aria-disabled');
    }
  }

  /** A device from the list or the subscription: updates its row, or adds one (list pages, or live devices that match). */
  upsert(device: Device, fromList = false): void {
    const known = this.rows.get(device.id);
    if (known) {
      if (!fromList && Date.parse(device.lastSeenAt) < Date.parse(known.data.lastSeenAt) && device.online === known.data.online) return;
      this.fill(known, device);
      return;
    }
    if (!fromList && !matches(device, this.filter)) return;
    const cells = {
      online: h('td', { class: 'online-cell' }),
      model: h('td'),
      gateway: h('td'),
      firmware: h('td', { class: 'version' }),
      software: h('td', { class: 'version' }),
      consistency: h('td'),
      upgrading: h('td'),
      seen: h('td', { class: 'seen' }),
    };
    const tr = h(
      'tr',
      { 'data-device-id': device.deviceId },
      cells.online,
      h('th', { scope: 'row', class: 'device-id' }, device.deviceId),
      cells.model,
      cells.gateway,
      cells.firmware,
      cells.software,
      cells.consistency,
      cells.upgrading,
      cells.seen,
    );
    const row: Row = { data: device, tr, cells };
    this.fill(row, device);
    this.rows.set(device.id, row);
    // List pages arrive in order; a live device joins at the end until the next reload.
    this.body.append(tr);
  }

  private fill(row: Row, device: Device): void {
    row.data = device;
    const word = onlineWord(device.online);
    row.cells.online.replaceChildren(h('span', { class: 'dot', 'data-online': String(device.online), 'aria-hidden': 'true' }), h('span', { class: 'visually-hidden' }, word));
    row.cells.online.title = word;
    setText(row.cells.model, modelText(device));
    setText(row.cells.gateway, device.gatewaySn === device.deviceId ? '(dock)' : orDash(device.gatewaySn));
    setText(row.cells.firmware, orDash(device.firmwareVersion));
    setText(row.cells.software, orDash(device.softwareVersion));
    setText(row.cells.consistency, device.consistencyUpgradeNeeded === null ? '—' : device.consistencyUpgradeNeeded ? 'Needs consistency upgrade' : 'No');
    row.cells.consistency.dataset.needed = String(device.consistencyUpgradeNeeded === true);
    setText(row.cells.upgrading, device.upgrading ? 'Upgrading' : 'No');
    setText(row.cells.seen, new Date(device.lastSeenAt).toLocaleString());
  }

  /** The version distribution: one bar chart per model, bars as wide as their share of the model's devices. */
  async loadDistribution(): Promise<void> {
    try {
      const { firmwareVersions } = await request<{ firmwareVersions: VersionCount[] }>(FIRMWARE_VERSIONS_QUERY, {
        source: this.filter.source ?? null,
      });
      const byModel = new Map<string, VersionCount[]>();
      for (const row of firmwareVersions) {
        const key = row.model ?? '';
        byModel.set(key, [...(byModel.get(key) ?? []), row]);
      }
      const charts = [...byModel].map(([model, rows]) => {
        const total = rows.reduce((sum, r) => sum + r.count, 0);
        const title = model === '' ? 'Unknown model' : rows[0].modelName ? `${rows[0].modelName} (${model})` : model;
        return h(
          'figure',
          { class: 'version-chart' },
          h('figcaption', {}, `${title}: ${total} device${total === 1 ? '' : 's'}`),
          h(
            'ul',
            {},
            ...rows.map((r) =>
              h(
                'li',
                {},
                h('span', { class: 'bar-label' }, orDash(r.firmwareVersion)),
                h('span', { class: 'version-bar', 'aria-hidden': 'true' }, barFill(Math.max(1, Math.round((100 * r.count) / total)))),
                h('span', { class: 'bar-count' }, `${r.count}`),
              ),
            ),
          ),
        );
      });
      this.chart.replaceChildren(...(charts.length > 0 ? charts : [h('p', {}, 'No devices yet.')]));
    } catch (error) {
      this.chart.replaceChildren(h('p', { class: 'error' }, `Could not load the version distribution: ${describeError(error)}`));
    }
  }

  /** Reads the distribution again soon (once per burst of changes). */
  distributionChanged(): void {
    this.distributionTimer ??= setTimeout(() => {
      this.distributionTimer = null;
      void this.loadDistribution();
    }, DISTRIBUTION_REFRESH_MS);
  }
}

/** Starts the view: the first page, the distribution, and the live subscription. */
export function startDevicesView(): DevicesView {
  const view = new DevicesView();
  subscribeForever<{ deviceChanged: Device }>(DEVICE_CHANGED_SUBSCRIPTION, {}, (data) => {
    view.upsert(data.deviceChanged);
    view.distributionChanged();
  });
  void firstConnection().then(() => view.reload());
  // After a reconnect, what changed meanwhile is read again rather than replayed.
  onReconnected(() => void view.reload());
  return view;
}
