import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { FirmwareUpgradeType, UpgradeKind, UpgradeSource } from '../enums';
import { DateTimeScalar, SafeIntScalar } from '../scalars';
import { NodeInterface } from '../relay';
import { PageInfoType } from '../types';

@ObjectType('FirmwarePackage', { implements: NodeInterface, description: 'One firmware build for one device model.' })
export class FirmwarePackageType extends NodeInterface {
  @Field(() => UpgradeSource) source: UpgradeSource;
  @Field({ description: 'The model key the inventory uses (DJI domain-type-sub_type, e.g. 3-1-0).' }) model: string;
  @Field(() => String, { nullable: true, description: "The model's product name, where known (Dock 2, M30T, …)." }) modelName: string | null;
  @Field() version: string;
  @Field(() => String, { nullable: true, description: 'http(s) URL the device downloads from (DJI); null for a Huawei package.' }) fileUrl: string | null;
  @Field(() => String, { nullable: true, description: '32 lowercase hex digits (DJI).' }) md5: string | null;
  @Field(() => SafeIntScalar, { nullable: true }) fileSize: number | null;
  @Field(() => String, { nullable: true }) fileName: string | null;
  @Field(() => FirmwareUpgradeType, { nullable: true }) firmwareUpgradeType: FirmwareUpgradeType | null;
  @Field(() => String, { nullable: true, description: "Huawei: the platform's version package id (fileId)." }) fileId: string | null;
  @Field(() => UpgradeKind, { nullable: true, description: 'Huawei: FIRMWARE or SOFTWARE (a firmwareUpgrade or softwareUpgrade task on the platform); null for DJI.' }) kind: UpgradeKind | null;
  @Field(() => String, { nullable: true, description: 'Who registered it, where known.' }) createdBy: string | null;
  @Field(() => DateTimeScalar) createdAt: Date;
}

@ObjectType('FirmwarePackageEdge')
export class FirmwarePackageEdge {
  @Field() cursor: string;
  @Field(() => FirmwarePackageType) node: FirmwarePackageType;
}

@ObjectType('FirmwarePackageConnection')
export class FirmwarePackageConnection {
  @Field(() => Int) totalCount: number;
  @Field(() => PageInfoType) pageInfo: PageInfoType;
  @Field(() => [FirmwarePackageEdge]) edges: FirmwarePackageEdge[];
}

@InputType('FirmwarePackageFilter', { description: 'Package filters, combined with AND.' })
export class FirmwarePackageFilterInput {
  @Field(() => String, { nullable: true }) model?: string | null;
  @Field(() => UpgradeSource, { nullable: true }) source?: UpgradeSource | null;
}

@InputType('RegisterFirmwarePackageInput', {
  description:
    'A firmware build for one model. DJI (the default source): fileUrl, md5, fileSize, fileName and firmwareUpgradeType, checked as createFirmwareUpgrade checks a device. HUAWEI: fileId and kind, none of the DJI fields.',
})
export class RegisterFirmwarePackageInput {
  @Field(() => UpgradeSource, { nullable: true, defaultValue: UpgradeSource.DJI, description: 'DJI (default) or HUAWEI.' }) source?: UpgradeSource | null;
  @Field({ description: "DJI: model key domain-type-sub_type, e.g. 3-1-0 (Dock). HUAWEI: the platform's model name." }) model: string;
  @Field({ description: 'The version the device reports once upgraded (product_version).' }) version: string;
  @Field(() => String, { nullable: true, description: 'DJI: http(s) URL the device downloads from.' }) fileUrl?: string | null;
  @Field(() => String, { nullable: true, description: 'DJI: 32 hex digits.' }) md5?: string | null;
  @Field(() => SafeIntScalar, { nullable: true, description: 'DJI.' }) fileSize?: number | null;
  @Field(() => String, { nullable: true, description: 'DJI.' }) fileName?: string | null;
  @Field(() => FirmwareUpgradeType, { nullable: true, description: 'DJI.' }) firmwareUpgradeType?: FirmwareUpgradeType | null;
  @Field(() => String, { nullable: true, description: "HUAWEI: the platform's version package id." }) fileId?: string | null;
  @Field(() => UpgradeKind, { nullable: true, description: 'HUAWEI: FIRMWARE or SOFTWARE.' }) kind?: UpgradeKind | null;
}
