import { Field, InputType } from 'type-graphql';
import { UpgradeSource } from '../enums';

/*
 * The inventory's DeviceFilter (issue 13), declared here until the inventory's
 * GraphQL types land; then this file goes and theirs is imported.
 */
@InputType('DeviceFilter', { description: 'Device filters, combined with AND.' })
export class DeviceFilterInput {
  @Field(() => UpgradeSource, { nullable: true }) source?: UpgradeSource | null;
  @Field(() => String, { nullable: true }) gatewaySn?: string | null;
  @Field(() => String, { nullable: true }) model?: string | null;
  @Field(() => String, { nullable: true }) firmwareVersion?: string | null;
  @Field(() => String, { nullable: true }) firmwareVersionNot?: string | null;
  @Field(() => Boolean, { nullable: true }) consistencyUpgradeNeeded?: boolean | null;
  @Field(() => Boolean, { nullable: true }) online?: boolean | null;
  @Field(() => Boolean, { nullable: true }) upgrading?: boolean | null;
  @Field(() => String, { nullable: true }) deviceIdPrefix?: string | null;
}
