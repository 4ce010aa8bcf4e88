import type { InventoryObservation } from '../inventory/observations';
import type { ShadowStatus, UpgradeKind, UpgradeSource, UpgradeStatus } from './status';

/**
 * Which sub-tasks of a task an observation applies to.
 *
 * - `device`: one device, named by the vendor (Huawei pushes name `deviceId` and
 *   `subOperationId`). An unknown device creates its sub-task.
 * - `allDevices`: every sub-task of the task (a DJI `ota_progress` names only the
 *   `bid`). When the task has no sub-task yet (an upgrade started elsewhere), one
 *   is created for `fallbackDeviceId`.
 */
export type ObservationTarget =
  | { readonly kind: 'device'; readonly deviceId: string; readonly externalId?: string | null }
  | { readonly kind: 'allDevices'; readonly fallbackDeviceId: string };

/** The fields of a sub-task an observation may report; absent or null means "not reported". */
export interface ReportedFields {
  readonly vendorStatus?: string | null;
  readonly subStatus?: string | null;
  readonly step?: string | null;
  /** 0..100, already clamped by the adapter. */
  readonly percent?: number | null;
  readonly errorCode?: string | null;
  readonly statusDesc?: string | null;
  readonly sourceVersion?: string | null;
  readonly currentVersion?: string | null;
  readonly targetVersion?: string | null;
  /** Huawei reports an upgrade *duration*, as a number or a string: kept as reported. */
  readonly upgradeTime?: string | null;
}

/**
 * One vendor message about an upgrade, normalised by its adapter. Adapters only
 * build these; the recorder alone decides what they change.
 */
export interface UpgradeObservation extends ReportedFields {
  readonly type: 'upgrade';
  readonly source: UpgradeSource;
  readonly kind: UpgradeKind;
  /** The task as the vendor names it: Huawei `operationId`, DJI `bid`. */
  readonly task: {
    readonly externalId: string;
    readonly appId?: string | null;
    readonly gatewaySn?: string | null;
  };
  readonly target: ObservationTarget;
  /** The normalised status, or null when the message moves no status (Huawei `idle`). */
  readonly status: UpgradeStatus | null;
  /**
   * When the vendor says it happened, as reported (kept for display). Null
   * where the protocol carries no time (Huawei pushes). Arrival order decides
   * what applies; this time only for a late redelivery (see `decideTransition`).
   */
  readonly occurredAt: Date | null;
  /**
   * True when the transport marks the message as a possible late copy (MQTT
   * DUP): then its device time, when plausible, is held against the last one applied.
   */
  readonly redelivered?: boolean;
  /**
   * Set for a reply to a command the gateway sent (DJI `services_reply`): the
   * observation applies only when this `tid` belongs to a command of the task
   * still waiting for its reply; otherwise it is kept in the ledger and moves nothing.
   */
  readonly replyToTid?: string | null;
  /**
   * A poll rather than news (the Huawei reconciler reading a task back): it
   * applies only when it moves the sub-task forward (see {@link advancesStatus})
   * or names a sub-task never heard of; otherwise it writes nothing at all (no
   * history, no change), so a task polled all day keeps a clean history.
   */
  readonly quiet?: boolean;
}

/** A Huawei device-shadow delivery status change. */
export interface ShadowObservation {
  readonly type: 'shadow';
  readonly source: UpgradeSource;
  readonly deviceId: string;
  readonly serviceId: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly status: ShadowStatus;
}

/** Anything an adapter can hand to the recorder (the inventory's: topology and device state). */
export type Observation = UpgradeObservation | ShadowObservation | InventoryObservation;

/**
 * One inbound message as received, with what its adapter made of it. Every
 * envelope is written to the ledger (`InboundMessage`), whatever becomes of it.
 */
export interface InboundEnvelope {
  readonly source: UpgradeSource;
  /** What kind of message: Huawei `notifyType`, DJI `method` (or the topic kind when unparsable). */
  readonly channel: string;
  /**
   * Identity of the message for dedupe, built by the adapter from content
   * (Huawei) or from (gateway sn, tid) (DJI). Null: never deduplicated.
   */
  readonly dedupeKey: string | null;
  /** The raw payload as received (text), kept in the ledger. */
  readonly raw: string;
  /** When the gateway received it. */
  readonly receivedAt: Date;
  /**
   * What the adapter made of it: an observation to record, or a reason it holds
   * nothing to record (unknown type, or rejected input).
   */
  readonly content:
    | { readonly kind: 'observation'; readonly observation: Observation }
    | { readonly kind: 'unhandled'; readonly reason: string }
    | { readonly kind: 'rejected'; readonly reason: string };
}

/** What every envelope of one received message shares, whatever its adapter makes of it. */
export interface ReceivedMessage {
  readonly source: UpgradeSource;
  readonly raw: string;
  readonly receivedAt: Date;
}

/**
 * The envelope of `message`. Field by field, not `{ ...message, channel, … }`:
 * adapters build one for every message, and on Node 20 a literal that adds
 * properties after a spread costs microseconds (see eslint.config.mjs).
 */
export function envelopeOf(
  message: ReceivedMessage,
  channel: string,
  dedupeKey: string | null,
  content: InboundEnvelope['content'],
): InboundEnvelope {
  return { source: message.source, channel, dedupeKey, raw: message.raw, receivedAt: message.receivedAt, content };
}
