import { HuaweiToken } from './huawei-token.entity';
import { InboundMessage } from './inbound-message.entity';
import { OutboundCommand } from './outbound-command.entity';
import { ProgressEvent } from './progress-event.entity';
import { ShadowEvent } from './shadow-event.entity';
import { UpgradeSubTask } from './upgrade-sub-task.entity';
import { UpgradeTask } from './upgrade-task.entity';
import { Device } from '../../inventory/device.entity';
import { FirmwarePackage } from './firmware-package.entity';
import { Rollout } from './rollout.entity';
import { RolloutTarget } from './rollout-target.entity';
import { RolloutPackage } from './rollout-package.entity';

export { InboundMessage, InboundOutcome } from './inbound-message.entity';
export { OutboundCommand, OutboundCommandStatus } from './outbound-command.entity';
export { ProgressEvent } from './progress-event.entity';
export { ShadowEvent } from './shadow-event.entity';
export { UpgradeSubTask, newSubTask } from './upgrade-sub-task.entity';
export { UpgradeTask } from './upgrade-task.entity';
export { STATUS_COUNT_PROPERTY, storeTally, tallyOfTask } from './upgrade-task.entity';
export { HuaweiToken } from './huawei-token.entity';
export { FirmwarePackage } from './firmware-package.entity';
export { Rollout } from './rollout.entity';
export { RolloutTarget } from './rollout-target.entity';
export { RolloutPackage } from './rollout-package.entity';

/** Every entity, for the data source. */
export const ENTITIES = [UpgradeTask, UpgradeSubTask, ProgressEvent, ShadowEvent, InboundMessage, OutboundCommand, HuaweiToken, Device, FirmwarePackage, Rollout, RolloutPackage, RolloutTarget];
