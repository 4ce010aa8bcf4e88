import { isValidSn, type DockScope } from './acl';

/** Most sub-devices one dock may announce (a dock carries one aircraft; DJI's docks list one or two). */
export const MAX_SUB_DEVICES_PER_DOCK = 8;

/**
 * The sub-device sns a DJI `update_topo` payload announces
 * (`{"method":"update_topo","data":{"sub_devices":[{"sn":…},…]}}`), or null
 * when the payload is not an `update_topo`. Parsed minimally: the inventory
 * (src/inventory) reads the rest; here only who may speak for whom matters.
 */
export function announcedSubDevices(payload: Buffer | string): string[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const message = parsed as { method?: unknown; data?: { sub_devices?: unknown } };
  if (message.method !== 'update_topo') return null;
  const list = typeof message.data === 'object' && message.data !== null ? message.data.sub_devices : undefined;
  if (!Array.isArray(list)) return [];
  const sns: string[] = [];
  for (const device of list) {
    const sn = typeof device === 'object' && device !== null ? (device as { sn?: unknown }).sn : undefined;
    if (typeof sn === 'string' && isValidSn(sn) && !sns.includes(sn)) sns.push(sn);
    if (sns.length >= MAX_SUB_DEVICES_PER_DOCK) break;
  }
  return sns;
}

/**
 * Dock sn -> the sub-device sns it announced in its latest `update_topo`, in
 * memory (the broker's state is in memory too: a dock announces its topology
 * again when it reconnects). Bounded: at most `maxDocks` docks, the one heard
 * from least recently forgotten first.
 */
export class SubDeviceRegistry {
  private readonly byDock = new Map<string, ReadonlySet<string>>();

  constructor(
    /** A sn no dock may claim as its sub-device (another dock's, the gateway's). */
    private readonly isReserved: (sn: string, claimedBy: string) => boolean = () => false,
    private readonly maxDocks = 10_000,
  ) {}

  /** Records what `dockSn` announced (an empty list: its aircraft went away). Returns the sns accepted. */
  announce(dockSn: string, subDevices: readonly string[]): string[] {
    const accepted = subDevices.filter((sn) => sn !== dockSn && !this.isReserved(sn, dockSn));
    this.byDock.delete(dockSn);
    if (accepted.length > 0) {
      this.byDock.set(dockSn, new Set(accepted));
      if (this.byDock.size > this.maxDocks) this.byDock.delete(this.byDock.keys().next().value as string);
    }
    return accepted;
  }

  /** The ACL scope of `dockSn`. */
  scopeOf(dockSn: string): DockScope {
    return { subDevices: this.byDock.get(dockSn) ?? EMPTY };
  }
}

const EMPTY: ReadonlySet<string> = new Set();
