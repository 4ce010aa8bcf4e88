import { randomUUID } from 'node:crypto';
import {
  type InboundEnvelope,
  type UpgradeObservation,
  UpgradeKind,
  UpgradeSource,
  UpgradeStatus,
} from '../../src/domain';

/** A Huawei-like upgrade observation for one device, wrapped in an envelope, for recorder tests. */
export function huaweiEnvelope(
  fields: Partial<UpgradeObservation> & { operationId?: string; deviceId?: string; status: UpgradeStatus | null },
  envelope: Partial<InboundEnvelope> = {},
): InboundEnvelope {
  const { operationId = 'op-1', deviceId = 'dev-1', ...rest } = fields;
  const observation: UpgradeObservation = {
    type: 'upgrade',
    source: UpgradeSource.HUAWEI,
    kind: UpgradeKind.FIRMWARE,
    task: { externalId: operationId, appId: 'app-1' },
    target: { kind: 'device', deviceId, externalId: `sub-${deviceId}` },
    occurredAt: null,
    ...rest,
  };
  return {
    source: UpgradeSource.HUAWEI,
    channel: 'fwUpgradeStateChangeNotify',
    dedupeKey: randomUUID(),
    raw: JSON.stringify(observation),
    receivedAt: new Date(),
    content: { kind: 'observation', observation },
    ...envelope,
  };
}

/** A DJI-like progress observation for a whole task (bid), for recorder tests. */
export function djiEnvelope(
  fields: Partial<UpgradeObservation> & { bid?: string; gatewaySn?: string; status: UpgradeStatus | null; occurredAt?: Date | null },
  envelope: Partial<InboundEnvelope> = {},
): InboundEnvelope {
  const { bid = 'bid-1', gatewaySn = 'DOCK-1', ...rest } = fields;
  const observation: UpgradeObservation = {
    type: 'upgrade',
    source: UpgradeSource.DJI,
    kind: UpgradeKind.FIRMWARE,
    task: { externalId: bid, gatewaySn },
    target: { kind: 'allDevices', fallbackDeviceId: gatewaySn },
    occurredAt: null,
    ...rest,
  };
  return {
    source: UpgradeSource.DJI,
    channel: 'ota_progress',
    dedupeKey: `dji:${gatewaySn}:event:${randomUUID()}`,
    raw: JSON.stringify(observation),
    receivedAt: new Date(),
    content: { kind: 'observation', observation },
    ...envelope,
  };
}
