import { InitialSchema1763769600000 } from './1763769600000-InitialSchema';
import { OutboundCommand1763856000000 } from './1763856000000-OutboundCommand';
import { TaskCreatedBy1764000000000 } from './1764000000000-TaskCreatedBy';
import { TaskTally1764100000000 } from './1764100000000-TaskTally';
import { DeviceInventory1764200000000 } from './1764200000000-DeviceInventory';
import { HuaweiToken1764300000000 } from './1764300000000-HuaweiToken';
import { MqttSession1764600000000 } from './1764600000000-MqttSession';
import { Rollouts1764700000000 } from './1764700000000-Rollouts';
import { HuaweiRolloutWaves1764800000000 } from './1764800000000-HuaweiRolloutWaves';

/** Every migration, oldest first. Add new ones at the end. */
export const MIGRATIONS: Function[] = [
  InitialSchema1763769600000,
  OutboundCommand1763856000000,
  TaskCreatedBy1764000000000,
  TaskTally1764100000000,
  DeviceInventory1764200000000,
  HuaweiToken1764300000000,
  MqttSession1764600000000,
  Rollouts1764700000000,
  HuaweiRolloutWaves1764800000000,
];
