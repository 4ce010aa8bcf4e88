/**
 * Who may publish and subscribe to what on the embedded broker: pure rules,
 * no I/O, applied to every PUBLISH and SUBSCRIBE (authorization is always on,
 * whether clients authenticated with a password or connected anonymously on
 * loopback).
 *
 * The topic tree is DJI Cloud API's (protocols.md §5): a dock (a "gateway" in
 * DJI's words) sends on `thing/product/{sn}/{osd,state,events,…}` and
 * `sys/product/{sn}/status`, and listens on `…/services`, `…/events_reply`,
 * `…/property/set` and the like; the cloud (this gateway) does the opposite.
 * A dock speaks for itself and for the sub-devices (aircraft) it announced in
 * `update_topo`; it never reads another dock's traffic.
 */

/** Whom a connection speaks for, established when it connects. */
export type Identity =
  /** The gateway's own in-process client: publishes commands and replies. */
  | { readonly kind: 'gateway' }
  /** A dock: its serial number (DJI's gateway sn). */
  | { readonly kind: 'dock'; readonly sn: string }
  /**
   * A read-only observer (monitoring, tests): may subscribe to anything but
   * `$SYS`, publishes nothing. Granted only through the broker's options.
   */
  | { readonly kind: 'observer'; readonly name: string };

/** An allowed action, or why not. */
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALLOW: Decision = Object.freeze({ allowed: true });
const deny = (reason: string): Decision => ({ allowed: false, reason });

/** What a dock sends under `thing/product/{sn}/`: its telemetry, events, replies and requests. */
export const DOCK_UPLINK_SUFFIXES: readonly string[] = ['osd', 'state', 'events', 'services_reply', 'requests', 'property/set_reply', 'drc/up'];

/** What the cloud sends under `thing/product/{sn}/`: commands and replies, which only the gateway publishes. */
export const CLOUD_DOWNLINK_SUFFIXES: readonly string[] = ['services', 'events_reply', 'requests_reply', 'property/set', 'drc/down'];

/** `sys/product/{sn}/…`: the dock sends `status` (topology), the cloud answers `status_reply`. */
const SYS_UPLINK = 'status';
const SYS_DOWNLINK = 'status_reply';

/**
 * A serial number usable as one topic level: non-empty, at most 64
 * characters, no `/`, no wildcard, no `$` at the start, no NUL.
 */
export function isValidSn(sn: string): boolean {
  return sn.length > 0 && sn.length <= 64 && !/[/+#\u0000]/.test(sn) && !sn.startsWith('$');
}

/** A DJI topic taken apart: `{root}/product/{sn}/{suffix}`; null for anything else. */
export interface DjiTopic {
  readonly root: 'thing' | 'sys';
  readonly sn: string;
  /** What follows the sn, e.g. `events` or `property/set`. */
  readonly suffix: string;
}

export function parseDjiTopic(topic: string): DjiTopic | null {
  const levels = topic.split('/');
  if (levels.length < 4 || levels[1] !== 'product') return null;
  const root = levels[0];
  if (root !== 'thing' && root !== 'sys') return null;
  return { root, sn: levels[2], suffix: levels.slice(3).join('/') };
}

/** True for a topic carrying commands or replies to a dock (only the gateway publishes there; never retained). */
export function isCommandTopic(topic: string): boolean {
  const parsed = parseDjiTopic(topic);
  if (!parsed) return false;
  return parsed.root === 'thing' ? CLOUD_DOWNLINK_SUFFIXES.includes(parsed.suffix) : parsed.suffix === SYS_DOWNLINK;
}

/** A dock's own sn and those of the sub-devices it announced. */
export interface DockScope {
  /** The sub-devices (aircraft) this dock announced in its latest `update_topo`. */
  readonly subDevices: ReadonlySet<string>;
}

const NO_SUB_DEVICES: DockScope = Object.freeze({ subDevices: new Set<string>() });

/**
 * May `identity` publish on `topic` (with the RETAIN flag `retain`)?
 * - nobody publishes on `$…` topics (`$SYS` belongs to the broker);
 * - retained messages are refused on command topics, whoever sends them (a
 *   retained `ota_create` would reach the dock on every subscription);
 * - the gateway publishes anything else;
 * - a dock publishes only what a dock sends, under its own sn or a sub-device
 *   it announced (`thing/product/{sn}/…`), and its topology under its own sn
 *   (`sys/product/{sn}/status`);
 * - observers publish nothing.
 */
export function mayPublish(identity: Identity, topic: string, retain: boolean, scope: DockScope = NO_SUB_DEVICES): Decision {
  if (topic.startsWith('$')) return deny('topics starting with $ are reserved for the broker');
  if (retain && isCommandTopic(topic)) return deny('retained messages are not allowed on command topics');
  switch (identity.kind) {
    case 'gateway':
      return ALLOW;
    case 'observer':
      return deny('observers may not publish');
    case 'dock': {
      const parsed = parseDjiTopic(topic);
      if (!parsed) return deny(`a dock publishes only under thing/product/${identity.sn}/… and sys/product/${identity.sn}/…`);
      if (parsed.root === 'sys') {
        if (parsed.sn !== identity.sn) return deny(`sys/product/${parsed.sn}/… belongs to another dock`);
        return parsed.suffix === SYS_UPLINK ? ALLOW : deny(`a dock publishes only sys/product/${identity.sn}/${SYS_UPLINK}`);
      }
      if (parsed.sn !== identity.sn && !scope.subDevices.has(parsed.sn)) {
        return deny(`thing/product/${parsed.sn}/… is neither this dock's nor one of its announced sub-devices'`);
      }
      if (CLOUD_DOWNLINK_SUFFIXES.includes(parsed.suffix)) return deny(`only the gateway publishes ${parsed.suffix}`);
      return DOCK_UPLINK_SUFFIXES.includes(parsed.suffix) ? ALLOW : deny(`${parsed.suffix} is not a topic a dock sends`);
    }
  }
}

/**
 * May `identity` subscribe to `filter`?
 * - nobody subscribes to `$SYS` or to a filter starting with a wildcard (`#`, `+/…`) but observers;
 * - the gateway subscribes to what docks send (`thing/product/+/events`, …), never to `$SYS`;
 * - a dock subscribes only to what the cloud sends to it or to its announced
 *   sub-devices, topic by topic, without wildcards;
 * - observers subscribe to anything but `$…` topics.
 */
export function maySubscribe(identity: Identity, filter: string, scope: DockScope = NO_SUB_DEVICES): Decision {
  if (filter.startsWith('$')) {
    // `$share/<group>/<filter>`: the filter inside is what counts.
    const shared = /^\$share\/[^/]+\/(.+)$/.exec(filter);
    if (!shared || identity.kind !== 'gateway') return deny('subscriptions to $ topics are not allowed');
    return maySubscribe(identity, shared[1], scope);
  }
  switch (identity.kind) {
    case 'observer':
      return ALLOW;
    case 'gateway': {
      const parsed = parseDjiTopic(filter);
      if (!parsed) return deny('the gateway subscribes only to thing/product/… and sys/product/… topics');
      const uplink = parsed.root === 'thing' ? DOCK_UPLINK_SUFFIXES.includes(parsed.suffix) : parsed.suffix === SYS_UPLINK;
      return uplink ? ALLOW : deny(`the gateway does not subscribe to ${parsed.suffix}`);
    }
    case 'dock': {
      if (/[+#]/.test(filter)) return deny('a dock subscribes without wildcards, to its own topics only');
      const parsed = parseDjiTopic(filter);
      if (!parsed) return deny(`a dock subscribes only to thing/product/${identity.sn}/… and sys/product/${identity.sn}/…`);
      if (parsed.root === 'sys') {
        if (parsed.sn !== identity.sn) return deny(`sys/product/${parsed.sn}/… belongs to another dock`);
        return parsed.suffix === SYS_DOWNLINK ? ALLOW : deny(`a dock subscribes only to sys/product/${identity.sn}/${SYS_DOWNLINK}`);
      }
      if (parsed.sn !== identity.sn && !scope.subDevices.has(parsed.sn)) {
        return deny(`thing/product/${parsed.sn}/… is neither this dock's nor one of its announced sub-devices'`);
      }
      return CLOUD_DOWNLINK_SUFFIXES.includes(parsed.suffix) ? ALLOW : deny(`a dock does not subscribe to ${parsed.suffix}`);
    }
  }
}

/** A short label for logs and metrics: `gateway`, `dock:<sn>`, `observer:<name>`. */
export function describeIdentity(identity: Identity): string {
  return identity.kind === 'gateway' ? 'gateway' : identity.kind === 'dock' ? `dock:${identity.sn}` : `observer:${identity.name}`;
}
