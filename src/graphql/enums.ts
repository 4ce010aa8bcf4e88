import { registerEnumType } from 'type-graphql';
import { FirmwareUpgradeType, ShadowStatus, UpgradeKind, UpgradeSource, UpgradeStatus } from '../domain';

registerEnumType(UpgradeSource, { name: 'UpgradeSource', description: 'The platform a task came from.' });
registerEnumType(UpgradeKind, { name: 'UpgradeKind', description: 'What is being upgraded.' });
registerEnumType(UpgradeStatus, {
  name: 'UpgradeStatus',
  description: 'Normalised status. SUCCEEDED, FAILED, CANCELED, REJECTED and TIMED_OUT are terminal.',
});
registerEnumType(ShadowStatus, { name: 'ShadowStatus', description: 'Delivery status of a device-shadow change.' });
registerEnumType(FirmwareUpgradeType, {
  name: 'FirmwareUpgradeType',
  description: 'DJI firmware_upgrade_type: CONSISTENT (2), REGULAR (3), PSDK (4).',
});

export { FirmwareUpgradeType, ShadowStatus, UpgradeKind, UpgradeSource, UpgradeStatus };
