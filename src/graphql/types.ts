import { ArgsType, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { FirmwareUpgradeType, ShadowStatus, UpgradeKind, UpgradeSource, UpgradeStatus } from './enums';
import { DateTimeScalar, JSONObjectScalar, SafeIntScalar } from './scalars';

/*
 * The GraphQL contract frontends code against. These classes only describe
 * shapes; resolvers return the store's rows, whose fields carry the same names.
 */

@ObjectType('StatusCount', { description: 'How many sub-tasks of a task are in one status.' })
export class StatusCountType {
  @Field(() => UpgradeStatus) status: UpgradeStatus;
  @Field(() => Int) count: number;
}

@ObjectType('UpgradeTask', { description: 'One upgrade: a Huawei operation or a DJI bid, over one or more devices.' })
export class UpgradeTaskType {
  @Field(() => ID) id: string;
  @Field(() => UpgradeSource) source: UpgradeSource;
  @Field(() => UpgradeKind) kind: UpgradeKind;
  @Field({ description: 'Huawei operationId or DJI bid.' }) externalId: string;
  @Field(() => String, { nullable: true }) appId: string | null;
  @Field(() => String, { nullable: true }) gatewaySn: string | null;
  @Field(() => UpgradeStatus, { description: 'Derived from the sub-tasks.' }) status: UpgradeStatus;
  @Field(() => Int, {
    nullable: true,
    description: "Mean of the sub-tasks' overall progress (a succeeded one counts 100); it does not go back while the devices run.",
  })
  progress: number | null;
  @Field(() => String, { nullable: true, description: 'The name of the API token that created the task (`anonymous` without tokens); null for tasks a platform reported.' })
  createdBy: string | null;
  @Field(() => DateTimeScalar) createdAt: Date;
  @Field(() => DateTimeScalar) updatedAt: Date;
}

@ObjectType('ProgressEvent', { description: 'One observation of one device, in the history of its sub-task.' })
export class ProgressEventType {
  @Field(() => ID) id: number;
  @Field(() => UpgradeStatus, { description: 'The sub-task status after this observation.' }) status: UpgradeStatus;
  @Field(() => String, { nullable: true }) vendorStatus: string | null;
  @Field(() => Int, { nullable: true }) percent: number | null;
  @Field(() => String, { nullable: true }) step: string | null;
  @Field(() => String, { nullable: true }) errorCode: string | null;
  @Field(() => String, { nullable: true }) statusDesc: string | null;
  @Field({ description: 'False when the observation was kept in the history but moved nothing (late, stale or after the end).' })
  applied: boolean;
  @Field(() => DateTimeScalar, { description: 'When it happened, by the vendor message where it has a time.' })
  occurredAt: Date;
  @Field(() => DateTimeScalar) receivedAt: Date;
}

@ObjectType('UpgradeSubTask', { description: 'One device within an upgrade task.' })
export class UpgradeSubTaskType {
  @Field(() => ID) id: string;
  @Field({ description: 'Huawei deviceId or DJI device sn.' }) deviceId: string;
  @Field(() => String, { nullable: true, description: 'Huawei subOperationId.' }) externalId: string | null;
  @Field(() => UpgradeStatus) status: UpgradeStatus;
  @Field(() => String, { nullable: true, description: "The vendor's own status word." }) vendorStatus: string | null;
  @Field(() => String, { nullable: true }) subStatus: string | null;
  @Field(() => String, { nullable: true, description: 'The phase the device is in, as its vendor names it (DJI: download_firmware, upgrade_firmware).' })
  step: string | null;
  @Field(() => Int, { nullable: true, description: 'Percent of the current step, as reported.' }) percent: number | null;
  @Field(() => Int, {
    nullable: true,
    description: "The device's overall progress 0..100 across its phases (DJI: download 0–50, install 50–100); it never goes back.",
  })
  progress: number | null;
  @Field(() => String, { nullable: true }) sourceVersion: string | null;
  @Field(() => String, { nullable: true }) currentVersion: string | null;
  @Field(() => String, { nullable: true }) targetVersion: string | null;
  @Field(() => String, { nullable: true }) statusDesc: string | null;
  @Field(() => String, { nullable: true }) errorCode: string | null;
  @Field(() => String, { nullable: true, description: 'Upgrade duration as Huawei reported it.' }) upgradeTime: string | null;
  @Field(() => String, { nullable: true }) fileName: string | null;
  @Field(() => String, { nullable: true }) fileUrl: string | null;
  @Field(() => SafeIntScalar, { nullable: true }) fileSize: number | null;
  @Field(() => String, { nullable: true }) md5: string | null;
  @Field(() => FirmwareUpgradeType, { nullable: true }) firmwareUpgradeType: FirmwareUpgradeType | null;
  @Field(() => DateTimeScalar) updatedAt: Date;
}

@ObjectType('ShadowEvent', { description: 'A Huawei device-shadow (desired properties) delivery status change.' })
export class ShadowEventType {
  @Field(() => ID) id: number;
  @Field() deviceId: string;
  @Field() serviceId: string;
  @Field(() => JSONObjectScalar) properties: Record<string, unknown>;
  @Field(() => ShadowStatus) status: ShadowStatus;
  @Field(() => DateTimeScalar) receivedAt: Date;
}

@ObjectType('UpgradeProgress', { description: 'One recorded progress event with its task and sub-task.' })
export class UpgradeProgressType {
  @Field(() => UpgradeTaskType) task: UpgradeTaskType;
  @Field(() => UpgradeSubTaskType) subTask: UpgradeSubTaskType;
  @Field(() => ProgressEventType) event: ProgressEventType;
}

@ObjectType('PageInfo')
export class PageInfoType {
  @Field() hasNextPage: boolean;
  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' }) endCursor: string | null;
}

@ObjectType('UpgradeTaskEdge')
export class UpgradeTaskEdge {
  @Field() cursor: string;
  @Field(() => UpgradeTaskType) node: UpgradeTaskType;
}

@ObjectType('UpgradeTaskConnection')
export class UpgradeTaskConnection {
  @Field(() => Int) totalCount: number;
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  @Field(() => [UpgradeTaskEdge]) edges: UpgradeTaskEdge[];
}

@ObjectType('UpgradeSubTaskEdge')
export class UpgradeSubTaskEdge {
  @Field() cursor: string;
  @Field(() => UpgradeSubTaskType) node: UpgradeSubTaskType;
}

@ObjectType('UpgradeSubTaskConnection')
export class UpgradeSubTaskConnection {
  @Field(() => Int) totalCount: number;
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  @Field(() => [UpgradeSubTaskEdge]) edges: UpgradeSubTaskEdge[];
}

@ObjectType('ShadowEventEdge')
export class ShadowEventEdge {
  @Field() cursor: string;
  @Field(() => ShadowEventType) node: ShadowEventType;
}

@ObjectType('ShadowEventConnection')
export class ShadowEventConnection {
  @Field(() => Int) totalCount: number;
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  @Field(() => [ShadowEventEdge]) edges: ShadowEventEdge[];
}

@InputType('UpgradeTaskFilter', { description: 'Task filters, combined with AND.' })
export class UpgradeTaskFilterInput {
  @Field(() => UpgradeSource, { nullable: true }) source?: UpgradeSource | null;
  @Field(() => UpgradeKind, { nullable: true }) kind?: UpgradeKind | null;
  @Field(() => UpgradeStatus, { nullable: true }) status?: UpgradeStatus | null;
  @Field(() => String, { nullable: true }) gatewaySn?: string | null;
  @Field(() => String, { nullable: true, description: 'Tasks with a sub-task for this device.' }) deviceId?: string | null;
  @Field(() => String, { nullable: true }) appId?: string | null;
}

@InputType('UpgradeSubTaskFilter', { description: 'Sub-task filters, combined with AND.' })
export class UpgradeSubTaskFilterInput {
  @Field(() => ID, { nullable: true }) taskId?: string | null;
  @Field(() => String, { nullable: true }) deviceId?: string | null;
  @Field(() => String, { nullable: true }) gatewaySn?: string | null;
  @Field(() => UpgradeStatus, { nullable: true }) status?: UpgradeStatus | null;
}

@InputType('FirmwareUpgradeDeviceInput')
export class FirmwareUpgradeDeviceInput {
  @Field({ description: 'Target device sn (the dock or its aircraft).' }) sn: string;
  @Field() productVersion: string;
  @Field({ description: 'http(s) URL the device downloads from.' }) fileUrl: string;
  @Field({ description: '32 hex digits.' }) md5: string;
  @Field(() => SafeIntScalar) fileSize: number;
  @Field() fileName: string;
  @Field(() => FirmwareUpgradeType) firmwareUpgradeType: FirmwareUpgradeType;
}

@InputType('CreateFirmwareUpgradeInput')
export class CreateFirmwareUpgradeInput {
  @Field({ description: 'The dock sn: ota_create goes to thing/product/{gatewaySn}/services.' }) gatewaySn: string;
  @Field(() => [FirmwareUpgradeDeviceInput], { description: 'One or two devices.' }) devices: FirmwareUpgradeDeviceInput[];
}

/** Arguments shared by every list. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 200.' }) first: number;
  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' }) after?: string | null;
}
