import { ArgsType, Field, InputType, Int, ObjectType } from 'type-graphql';
import { UpgradeSource } from './enums';
import { DateTimeScalar } from './scalars';
import { NodeInterface } from './relay';
import { PageInfoType } from './types';

/* The fleet inventory's part of the contract (issue 13). */

@ObjectType('Device', {
  implements: NodeInterface,
  description: 'One device of the fleet (a DJI dock or aircraft, a Huawei device) and the firmware it runs. Its `id` names it by source and `deviceId`.',
})
export class DeviceType extends NodeInterface {
  @Field(() => UpgradeSource) source: UpgradeSource;
  @Field({ description: "DJI serial number or Huawei deviceId: what the platforms and the API's deviceId arguments use." }) deviceId: string;
  @Field(() => String, { nullable: true, description: 'The DJI dock the device hangs off (a dock names itself).' })
  gatewaySn: string | null;
  @Field(() => String, { nullable: true, description: 'DJI model key `domain-type-sub_type`, e.g. 3-2-0.' }) model: string | null;
  @Field(() => String, { nullable: true, description: "The product name from DJI's product table, e.g. DJI Dock 2." })
  modelName: string | null;
  @Field(() => String, { nullable: true }) firmwareVersion: string | null;
  @Field(() => String, { nullable: true, description: 'Huawei software version, kept apart from the firmware version.' })
  softwareVersion: string | null;
  @Field(() => Boolean, { nullable: true, description: 'DJI compatible_status 1: a consistency upgrade is needed; null until reported.' })
  consistencyUpgradeNeeded: boolean | null;
  @Field({ description: 'An upgrade is under way (DJI firmware_upgrade_status, or an upgrade the gateway follows).' }) upgrading: boolean;
  @Field(() => Boolean, { nullable: true, description: 'DJI: a dock while its MQTT connection is up, an aircraft per its dock topology. Null: not known.' })
  online: boolean | null;
  @Field(() => DateTimeScalar, { description: 'When the gateway last heard of the device.' }) lastSeenAt: Date;
  @Field(() => DateTimeScalar, { description: 'When the gateway first heard of it.' }) createdAt: Date;
  @Field(() => DateTimeScalar) updatedAt: Date;
}

@ObjectType('DeviceEdge')
export class DeviceEdge {
  @Field() cursor: string;
  @Field(() => DeviceType) node: DeviceType;
}

@ObjectType('DeviceConnection')
export class DeviceConnection {
  @Field(() => Int) totalCount: number;
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  @Field(() => [DeviceEdge]) edges: DeviceEdge[];
}

@ObjectType('FirmwareVersionCount', { description: 'How many devices of one model run one firmware version.' })
export class FirmwareVersionCountType {
  @Field(() => String, { nullable: true }) model: string | null;
  @Field(() => String, { nullable: true }) modelName: string | null;
  @Field(() => String, { nullable: true, description: 'Null: devices whose version is not known yet.' }) firmwareVersion: string | null;
  @Field(() => Int) count: number;
}

@InputType('DeviceFilter', { description: 'Device filters, combined with AND.' })
export class DeviceFilterInput {
  @Field(() => UpgradeSource, { nullable: true }) source?: UpgradeSource | null;
  @Field(() => String, { nullable: true, description: 'The dock and the devices behind it.' }) gatewaySn?: string | null;
  @Field(() => String, { nullable: true, description: 'A model key, e.g. 0-91-0.' }) model?: string | null;
  @Field(() => String, { nullable: true }) firmwareVersion?: string | null;
  @Field(() => String, { nullable: true, description: 'Devices not known to run this version (unknown versions included).' })
  firmwareVersionNot?: string | null;
  @Field(() => Boolean, { nullable: true }) consistencyUpgradeNeeded?: boolean | null;
  @Field(() => Boolean, { nullable: true }) online?: boolean | null;
  @Field(() => Boolean, { nullable: true }) upgrading?: boolean | null;
  @Field(() => String, { nullable: true }) deviceIdPrefix?: string | null;
}

/** Arguments of `Device.upgrades`. */
@ArgsType()
export class DeviceUpgradesArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 200.' }) first: number;
  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' }) after?: string | null;
}
