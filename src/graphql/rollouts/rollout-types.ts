import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { RolloutPauseReason, RolloutStatus, RolloutTargetStatus } from '../../rollouts/domain';
import { DEFAULT_SETTINGS } from '../../rollouts/validation';
import { NodeInterface } from '../relay';
import { DateTimeScalar } from '../scalars';
import { PageInfoType, UpgradeSubTaskType } from '../types';
import { DeviceFilterInput } from '../device-types';
import { FirmwarePackageType } from './package-types';

registerEnumType(RolloutStatus, {
  name: 'RolloutStatus',
  description: 'SCHEDULED until started (startRollout or startAt); RUNNING; PAUSED (nothing new is sent); COMPLETED; CANCELED.',
});
registerEnumType(RolloutPauseReason, { name: 'RolloutPauseReason', description: 'MANUAL (pauseRollout) or FAILURE_THRESHOLD (the brake).' });
registerEnumType(RolloutTargetStatus, { name: 'RolloutTargetStatus', description: 'Where one device of a rollout stands.' });

@ObjectType('RolloutCounts', { description: "How many of a rollout's targets are in each status." })
export class RolloutCountsType {
  @Field(() => Int) total: number;
  @Field(() => Int) queued: number;
  @Field(() => Int) inProgress: number;
  @Field(() => Int) succeeded: number;
  @Field(() => Int) failed: number;
  @Field(() => Int) skipped: number;
  @Field(() => Int) canceled: number;
}

@ObjectType('Rollout', { implements: NodeInterface, description: 'An upgrade of a fixed set of devices, a few at a time, with a failure brake.' })
export class RolloutType extends NodeInterface {
  @Field() name: string;
  @Field(() => RolloutStatus) status: RolloutStatus;
  @Field(() => RolloutPauseReason, { nullable: true }) pauseReason: RolloutPauseReason | null;
  @Field(() => Int, { description: 'Most targets in flight at once, across every instance.' }) maxInProgress: number;
  @Field(() => Float, { description: 'The brake: failed over finished, in percent, above which the rollout pauses.' }) maxFailurePercentage: number;
  @Field(() => Int, { description: 'Finished targets needed before the brake is judged.' }) minFinishedBeforeThreshold: number;
  @Field(() => Int, { description: 'Attempts per device; busy and low-battery answers do not spend one.' }) attemptsPerDevice: number;
  @Field(() => Int, { description: 'An attempt with no end after this long is TIMED_OUT (spends the attempt).' }) attemptTimeoutSeconds: number;
  @Field(() => Int, { description: 'Percent of the targets that reached an end (succeeded, failed, skipped, canceled).' }) progress: number;
  @Field(() => DateTimeScalar) createdAt: Date;
  @Field(() => DateTimeScalar, { nullable: true }) startAt: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) startedAt: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) finishedAt: Date | null;
  @Field(() => DateTimeScalar) updatedAt: Date;
  @Field(() => String, { nullable: true, description: 'Who created it, where known.' }) createdBy: string | null;
}

@ObjectType('RolloutTarget', { implements: NodeInterface, description: 'One device of a rollout.' })
export class RolloutTargetType extends NodeInterface {
  @Field({ description: 'The device id (DJI sn).' }) deviceId: string;
  @Field({ description: 'The dock its ota_create goes to.' }) gatewaySn: string;
  @Field(() => String, { nullable: true }) model: string | null;
  @Field(() => RolloutTargetStatus) status: RolloutTargetStatus;
  @Field(() => Int, { description: 'Attempts spent (busy answers give theirs back).' }) attempts: number;
  @Field(() => String, { nullable: true, description: 'Why it was skipped, or how its latest attempt ended.' }) lastError: string | null;
  @Field(() => DateTimeScalar) updatedAt: Date;
}

@ObjectType('RolloutEdge')
export class RolloutEdge {
  @Field() cursor: string;
  @Field(() => RolloutType) node: RolloutType;
}

@ObjectType('RolloutConnection')
export class RolloutConnection {
  @Field(() => Int) totalCount: number;
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  @Field(() => [RolloutEdge]) edges: RolloutEdge[];
}

@ObjectType('RolloutTargetEdge')
export class RolloutTargetEdge {
  @Field() cursor: string;
  @Field(() => RolloutTargetType) node: RolloutTargetType;
}

@ObjectType('RolloutTargetConnection')
export class RolloutTargetConnection {
  @Field(() => Int, { description: "From the rollout's counts: costs nothing however large the rollout." }) totalCount: number;
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  @Field(() => [RolloutTargetEdge]) edges: RolloutTargetEdge[];
}

@InputType('RolloutTargetInput', { description: 'Exactly one of deviceIds and filter. The targets are fixed when the rollout is created.' })
export class RolloutTargetInput {
  @Field(() => [String], { nullable: true, description: 'Devices of the inventory: their deviceId (DJI sn) or their `id`.' }) deviceIds?: string[] | null;
  @Field(() => DeviceFilterInput, { nullable: true, description: 'Every inventory device matching it, as it stands now.' }) filter?: DeviceFilterInput | null;
}

@InputType('CreateRolloutInput')
export class CreateRolloutInput {
  @Field() name: string;
  @Field(() => [ID], { description: 'One package per model (their `id`): each device gets the package of its model.' }) packageIds: string[];
  @Field(() => RolloutTargetInput) target: RolloutTargetInput;
  @Field(() => Int, { defaultValue: DEFAULT_SETTINGS.maxInProgress, description: '1 to 1000.' }) maxInProgress: number;
  @Field(() => Float, { defaultValue: DEFAULT_SETTINGS.maxFailurePercentage, description: '0 to 100.' }) maxFailurePercentage: number;
  @Field(() => Int, { defaultValue: DEFAULT_SETTINGS.minFinishedBeforeThreshold }) minFinishedBeforeThreshold: number;
  @Field(() => Int, { defaultValue: DEFAULT_SETTINGS.attemptsPerDevice, description: '1 to 10.' }) attemptsPerDevice: number;
  @Field(() => Int, { defaultValue: DEFAULT_SETTINGS.attemptTimeoutSeconds }) attemptTimeoutSeconds: number;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Starts by itself then; without it, startRollout starts it.' }) startAt?: Date | null;
}

export { FirmwarePackageType, UpgradeSubTaskType };
