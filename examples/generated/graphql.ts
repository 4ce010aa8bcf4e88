/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** An ISO-8601 date-time in UTC, e.g. 2026-11-21T10:00:00.000Z. */
  DateTime: { input: string; output: string; }
  /** The `JSONObject` scalar type represents JSON objects as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf). */
  JSONObject: { input: Record<string, unknown>; output: Record<string, unknown>; }
  /** The `SafeInt` scalar type represents non-fractional signed whole numeric values that are considered safe as defined by the ECMAScript specification. */
  SafeInt: { input: number; output: number; }
};

export type CreateFirmwareUpgradeInput = {
  /** One or two devices. */
  devices: Array<FirmwareUpgradeDeviceInput>;
  /** The dock sn: ota_create goes to thing/product/{gatewaySn}/services. */
  gatewaySn: Scalars['String']['input'];
};

export type CreateHuaweiUpgradeInput = {
  /** Platform device ids, 1 to 1000, distinct. */
  deviceIds: Array<Scalars['String']['input']>;
  /** The version package on the platform (its fileId). */
  fileId: Scalars['String']['input'];
  /** FIRMWARE (LwM2M devices) or SOFTWARE. */
  kind: UpgradeKind;
  policy?: InputMaybe<HuaweiUpgradePolicyInput>;
};

export type CreateRolloutInput = {
  attemptTimeoutSeconds?: Scalars['Int']['input'];
  /** 1 to 10. */
  attemptsPerDevice?: Scalars['Int']['input'];
  /** 0 to 100. */
  maxFailurePercentage?: Scalars['Float']['input'];
  /** 1 to 1000. */
  maxInProgress?: Scalars['Int']['input'];
  minFinishedBeforeThreshold?: Scalars['Int']['input'];
  name: Scalars['String']['input'];
  /** One package per model: each device gets the package of its model. */
  packageIds: Array<Scalars['ID']['input']>;
  /** Starts by itself then; without it, startRollout starts it. */
  startAt?: InputMaybe<Scalars['DateTime']['input']>;
  target: RolloutTargetInput;
};

/** One device of the fleet (a DJI dock or aircraft, a Huawei device) and the firmware it runs. */
export type Device = {
  __typename?: 'Device';
  /** DJI compatible_status 1: a consistency upgrade is needed; null until reported. */
  consistencyUpgradeNeeded?: Maybe<Scalars['Boolean']['output']>;
  /** When the gateway first heard of it. */
  createdAt: Scalars['DateTime']['output'];
  /** DJI serial number or Huawei deviceId. */
  deviceId: Scalars['String']['output'];
  firmwareVersion?: Maybe<Scalars['String']['output']>;
  /** The DJI dock the device hangs off (a dock names itself). */
  gatewaySn?: Maybe<Scalars['String']['output']>;
  /** Stable id assigned by the gateway. */
  id: Scalars['ID']['output'];
  /** When the gateway last heard of the device. */
  lastSeenAt: Scalars['DateTime']['output'];
  /** DJI model key `domain-type-sub_type`, e.g. 3-2-0. */
  model?: Maybe<Scalars['String']['output']>;
  /** The product name from DJI's product table, e.g. DJI Dock 2. */
  modelName?: Maybe<Scalars['String']['output']>;
  /** DJI: a dock while its MQTT connection is up, an aircraft per its dock topology. Null: not known. */
  online?: Maybe<Scalars['Boolean']['output']>;
  /** Huawei software version, kept apart from the firmware version. */
  softwareVersion?: Maybe<Scalars['String']['output']>;
  source: UpgradeSource;
  /** The devices behind a dock (its aircraft), online or not; empty for others. */
  subDevices: Array<Device>;
  updatedAt: Scalars['DateTime']['output'];
  /** The upgrades of this device, newest first. */
  upgrades: UpgradeSubTaskConnection;
  /** An upgrade is under way (DJI firmware_upgrade_status, or an upgrade the gateway follows). */
  upgrading: Scalars['Boolean']['output'];
};


/** One device of the fleet (a DJI dock or aircraft, a Huawei device) and the firmware it runs. */
export type DeviceUpgradesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type DeviceConnection = {
  __typename?: 'DeviceConnection';
  edges: Array<DeviceEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type DeviceEdge = {
  __typename?: 'DeviceEdge';
  cursor: Scalars['String']['output'];
  node: Device;
};

/** Device filters, combined with AND. */
export type DeviceFilter = {
  consistencyUpgradeNeeded?: InputMaybe<Scalars['Boolean']['input']>;
  deviceIdPrefix?: InputMaybe<Scalars['String']['input']>;
  firmwareVersion?: InputMaybe<Scalars['String']['input']>;
  /** Devices not known to run this version (unknown versions included). */
  firmwareVersionNot?: InputMaybe<Scalars['String']['input']>;
  /** The dock and the devices behind it. */
  gatewaySn?: InputMaybe<Scalars['String']['input']>;
  /** A model key, e.g. 0-91-0. */
  model?: InputMaybe<Scalars['String']['input']>;
  online?: InputMaybe<Scalars['Boolean']['input']>;
  source?: InputMaybe<UpgradeSource>;
  upgrading?: InputMaybe<Scalars['Boolean']['input']>;
};

/** One firmware build for one device model. */
export type FirmwarePackage = {
  __typename?: 'FirmwarePackage';
  createdAt: Scalars['DateTime']['output'];
  /** Who registered it, where known. */
  createdBy?: Maybe<Scalars['String']['output']>;
  /** Huawei: the platform's version package id (fileId). */
  fileId?: Maybe<Scalars['String']['output']>;
  fileName?: Maybe<Scalars['String']['output']>;
  fileSize?: Maybe<Scalars['SafeInt']['output']>;
  /** http(s) URL the device downloads from (DJI); null for a Huawei package. */
  fileUrl?: Maybe<Scalars['String']['output']>;
  firmwareUpgradeType?: Maybe<FirmwareUpgradeType>;
  id: Scalars['ID']['output'];
  /** 32 lowercase hex digits (DJI). */
  md5?: Maybe<Scalars['String']['output']>;
  /** The model key the inventory uses (DJI domain-type-sub_type, e.g. 3-1-0). */
  model: Scalars['String']['output'];
  /** The model's product name, where known (Dock 2, M30T, …). */
  modelName?: Maybe<Scalars['String']['output']>;
  source: UpgradeSource;
  version: Scalars['String']['output'];
};

export type FirmwarePackageConnection = {
  __typename?: 'FirmwarePackageConnection';
  edges: Array<FirmwarePackageEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type FirmwarePackageEdge = {
  __typename?: 'FirmwarePackageEdge';
  cursor: Scalars['String']['output'];
  node: FirmwarePackage;
};

/** Package filters, combined with AND. */
export type FirmwarePackageFilter = {
  model?: InputMaybe<Scalars['String']['input']>;
  source?: InputMaybe<UpgradeSource>;
};

export type FirmwareUpgradeDeviceInput = {
  fileName: Scalars['String']['input'];
  fileSize: Scalars['SafeInt']['input'];
  /** http(s) URL the device downloads from. */
  fileUrl: Scalars['String']['input'];
  firmwareUpgradeType: FirmwareUpgradeType;
  /** 32 hex digits. */
  md5: Scalars['String']['input'];
  productVersion: Scalars['String']['input'];
  /** Target device sn (the dock or its aircraft). */
  sn: Scalars['String']['input'];
};

/** DJI firmware_upgrade_type: CONSISTENT (2), REGULAR (3), PSDK (4). */
export type FirmwareUpgradeType =
  | 'CONSISTENT'
  | 'PSDK'
  | 'REGULAR';

/** How many devices of one model run one firmware version. */
export type FirmwareVersionCount = {
  __typename?: 'FirmwareVersionCount';
  count: Scalars['Int']['output'];
  /** Null: devices whose version is not known yet. */
  firmwareVersion?: Maybe<Scalars['String']['output']>;
  model?: Maybe<Scalars['String']['output']>;
  modelName?: Maybe<Scalars['String']['output']>;
};

/** When the Huawei platform runs an upgrade task: NOW, DEVICE_ONLINE (when each device next comes online), CUSTOM (between startTime and endTime). */
export type HuaweiExecuteType =
  | 'CUSTOM'
  | 'DEVICE_ONLINE'
  | 'NOW';

/** How the Huawei platform runs the task (its `policy`). */
export type HuaweiUpgradePolicyInput = {
  /** With CUSTOM; after startTime. */
  endTime?: InputMaybe<Scalars['DateTime']['input']>;
  /** Default NOW. */
  executeType?: InputMaybe<HuaweiExecuteType>;
  /** How often the platform retries a failed device, 0 to 5. */
  retryTimes?: InputMaybe<Scalars['Int']['input']>;
  /** With CUSTOM. */
  startTime?: InputMaybe<Scalars['DateTime']['input']>;
};

export type Mutation = {
  __typename?: 'Mutation';
  /** Sends nothing new: targets in flight finish and are counted as they end (no platform can stop an upgrade under way); the rest become CANCELED. */
  cancelRollout: Rollout;
  /** Starts a DJI firmware upgrade: stores the task (PENDING) and publishes ota_create to the dock. What follows arrives through upgradeProgress. */
  createFirmwareUpgrade: UpgradeTask;
  /** Starts a Huawei upgrade on the platform (firmwareUpgrade or softwareUpgrade) and stores the task (externalId = operationId, one PENDING sub-task per device); what follows arrives through upgradeProgress. A platform error is UPSTREAM_ERROR with extensions.platformCode and platformMessage, and nothing is stored. */
  createHuaweiUpgrade: UpgradeTask;
  /** Creates a rollout (SCHEDULED) with its targets fixed now: each device gets the package of its model; a device with no package for its model, or already on its version, is SKIPPED. It starts with startRollout, or by itself at startAt. */
  createRollout: Rollout;
  /** RUNNING → PAUSED (MANUAL): nothing new is sent; what is in flight finishes and is counted. */
  pauseRollout: Rollout;
  /** Reads a Huawei task back from the platform now and records what pushes missed; null when there is no such task. */
  reconcileHuaweiTask?: Maybe<UpgradeTask>;
  /** Registers a DJI firmware build for one model. A second package with the same model and version is BAD_USER_INPUT. */
  registerFirmwarePackage: FirmwarePackage;
  /** PAUSED → RUNNING (after a manual pause or the failure brake). */
  resumeRollout: Rollout;
  /** Puts FAILED targets back in the queue with their attempts reset; a COMPLETED rollout runs again. */
  retryRolloutFailures: Rollout;
  /** SCHEDULED → RUNNING. */
  startRollout: Rollout;
};


export type MutationCancelRolloutArgs = {
  id: Scalars['ID']['input'];
};


export type MutationCreateFirmwareUpgradeArgs = {
  input: CreateFirmwareUpgradeInput;
};


export type MutationCreateHuaweiUpgradeArgs = {
  input: CreateHuaweiUpgradeInput;
};


export type MutationCreateRolloutArgs = {
  input: CreateRolloutInput;
};


export type MutationPauseRolloutArgs = {
  id: Scalars['ID']['input'];
};


export type MutationReconcileHuaweiTaskArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRegisterFirmwarePackageArgs = {
  input: RegisterFirmwarePackageInput;
};


export type MutationResumeRolloutArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRetryRolloutFailuresArgs = {
  id: Scalars['ID']['input'];
};


export type MutationStartRolloutArgs = {
  id: Scalars['ID']['input'];
};

export type PageInfo = {
  __typename?: 'PageInfo';
  /** Pass as `after` to get the next page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

/** One observation of one device, in the history of its sub-task. */
export type ProgressEvent = {
  __typename?: 'ProgressEvent';
  /** False when the observation was kept in the history but moved nothing (late, stale or after the end). */
  applied: Scalars['Boolean']['output'];
  errorCode?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** When it happened, by the vendor message where it has a time. */
  occurredAt: Scalars['DateTime']['output'];
  percent?: Maybe<Scalars['Int']['output']>;
  receivedAt: Scalars['DateTime']['output'];
  /** The sub-task status after this observation. */
  status: UpgradeStatus;
  statusDesc?: Maybe<Scalars['String']['output']>;
  step?: Maybe<Scalars['String']['output']>;
  vendorStatus?: Maybe<Scalars['String']['output']>;
};

export type Query = {
  __typename?: 'Query';
  /** One device; null when there is none. */
  device?: Maybe<Device>;
  /** Devices of the fleet, in a stable order (source, then device id). */
  devices: DeviceConnection;
  firmwarePackage?: Maybe<FirmwarePackage>;
  /** Firmware packages, newest first. */
  firmwarePackages: FirmwarePackageConnection;
  /** How many devices run each firmware version, per model: one entry per (model, version) in the fleet. */
  firmwareVersions: Array<FirmwareVersionCount>;
  rollout?: Maybe<Rollout>;
  /** Rollouts, newest first. */
  rollouts: RolloutConnection;
  /** Shadow delivery events, newest first. */
  shadowEvents: ShadowEventConnection;
  /** Sub-tasks (one device each), newest first. */
  upgradeSubTasks: UpgradeSubTaskConnection;
  /** One task by id; null when there is none. */
  upgradeTask?: Maybe<UpgradeTask>;
  /** Upgrade tasks, newest first. */
  upgradeTasks: UpgradeTaskConnection;
};


export type QueryDeviceArgs = {
  deviceId: Scalars['String']['input'];
  source?: InputMaybe<UpgradeSource>;
};


export type QueryDevicesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<DeviceFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryFirmwarePackageArgs = {
  id: Scalars['ID']['input'];
};


export type QueryFirmwarePackagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<FirmwarePackageFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryFirmwareVersionsArgs = {
  model?: InputMaybe<Scalars['String']['input']>;
  source?: InputMaybe<UpgradeSource>;
};


export type QueryRolloutArgs = {
  id: Scalars['ID']['input'];
};


export type QueryRolloutsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<RolloutStatus>;
};


export type QueryShadowEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  deviceId?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryUpgradeSubTasksArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<UpgradeSubTaskFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryUpgradeTaskArgs = {
  id: Scalars['ID']['input'];
};


export type QueryUpgradeTasksArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<UpgradeTaskFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A DJI firmware build, checked as createFirmwareUpgrade checks a device. */
export type RegisterFirmwarePackageInput = {
  fileName: Scalars['String']['input'];
  fileSize: Scalars['SafeInt']['input'];
  /** http(s) URL the device downloads from. */
  fileUrl: Scalars['String']['input'];
  firmwareUpgradeType: FirmwareUpgradeType;
  /** 32 hex digits. */
  md5: Scalars['String']['input'];
  /** DJI model key domain-type-sub_type, e.g. 3-1-0 (Dock). */
  model: Scalars['String']['input'];
  /** The version the device reports once upgraded (product_version). */
  version: Scalars['String']['input'];
};

/** An upgrade of a fixed set of devices, a few at a time, with a failure brake. */
export type Rollout = {
  __typename?: 'Rollout';
  /** An attempt with no end after this long is TIMED_OUT (spends the attempt). */
  attemptTimeoutSeconds: Scalars['Int']['output'];
  /** Attempts per device; busy and low-battery answers do not spend one. */
  attemptsPerDevice: Scalars['Int']['output'];
  counts: RolloutCounts;
  createdAt: Scalars['DateTime']['output'];
  /** Who created it, where known. */
  createdBy?: Maybe<Scalars['String']['output']>;
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  /** The brake: failed over finished, in percent, above which the rollout pauses. */
  maxFailurePercentage: Scalars['Float']['output'];
  /** Most targets in flight at once, across every instance. */
  maxInProgress: Scalars['Int']['output'];
  /** Finished targets needed before the brake is judged. */
  minFinishedBeforeThreshold: Scalars['Int']['output'];
  name: Scalars['String']['output'];
  packages: Array<FirmwarePackage>;
  pauseReason?: Maybe<RolloutPauseReason>;
  /** Percent of the targets that reached an end (succeeded, failed, skipped, canceled). */
  progress: Scalars['Int']['output'];
  startAt?: Maybe<Scalars['DateTime']['output']>;
  startedAt?: Maybe<Scalars['DateTime']['output']>;
  status: RolloutStatus;
  /** Targets in the order they were planned (dock by dock). */
  targets: RolloutTargetConnection;
  updatedAt: Scalars['DateTime']['output'];
};


/** An upgrade of a fixed set of devices, a few at a time, with a failure brake. */
export type RolloutTargetsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<RolloutTargetStatus>;
};

export type RolloutConnection = {
  __typename?: 'RolloutConnection';
  edges: Array<RolloutEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

/** How many of a rollout's targets are in each status. */
export type RolloutCounts = {
  __typename?: 'RolloutCounts';
  canceled: Scalars['Int']['output'];
  failed: Scalars['Int']['output'];
  inProgress: Scalars['Int']['output'];
  queued: Scalars['Int']['output'];
  skipped: Scalars['Int']['output'];
  succeeded: Scalars['Int']['output'];
  total: Scalars['Int']['output'];
};

export type RolloutEdge = {
  __typename?: 'RolloutEdge';
  cursor: Scalars['String']['output'];
  node: Rollout;
};

/** MANUAL (pauseRollout) or FAILURE_THRESHOLD (the brake). */
export type RolloutPauseReason =
  | 'FAILURE_THRESHOLD'
  | 'MANUAL';

/** SCHEDULED until started (startRollout or startAt); RUNNING; PAUSED (nothing new is sent); COMPLETED; CANCELED. */
export type RolloutStatus =
  | 'CANCELED'
  | 'COMPLETED'
  | 'PAUSED'
  | 'RUNNING'
  | 'SCHEDULED';

/** One device of a rollout. */
export type RolloutTarget = {
  __typename?: 'RolloutTarget';
  /** Attempts spent (busy answers give theirs back). */
  attempts: Scalars['Int']['output'];
  /** The device in the inventory. */
  device: Device;
  /** The device id (DJI sn). */
  deviceId: Scalars['String']['output'];
  /** The dock its ota_create goes to. */
  gatewaySn: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  /** Why it was skipped, or how its latest attempt ended. */
  lastError?: Maybe<Scalars['String']['output']>;
  model?: Maybe<Scalars['String']['output']>;
  status: RolloutTargetStatus;
  /** The sub-task of its latest attempt. */
  subTask?: Maybe<UpgradeSubTask>;
  updatedAt: Scalars['DateTime']['output'];
};

export type RolloutTargetConnection = {
  __typename?: 'RolloutTargetConnection';
  edges: Array<RolloutTargetEdge>;
  pageInfo: PageInfo;
  /** From the rollout's counts: costs nothing however large the rollout. */
  totalCount: Scalars['Int']['output'];
};

export type RolloutTargetEdge = {
  __typename?: 'RolloutTargetEdge';
  cursor: Scalars['String']['output'];
  node: RolloutTarget;
};

/** Exactly one of deviceIds and filter. The targets are fixed when the rollout is created. */
export type RolloutTargetInput = {
  /** Device ids (DJI sn) from the inventory. */
  deviceIds?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Every inventory device matching it, as it stands now. */
  filter?: InputMaybe<DeviceFilter>;
};

/** Where one device of a rollout stands. */
export type RolloutTargetStatus =
  | 'CANCELED'
  | 'FAILED'
  | 'IN_PROGRESS'
  | 'QUEUED'
  | 'SKIPPED'
  | 'SUCCEEDED';

/** A Huawei device-shadow (desired properties) delivery status change. */
export type ShadowEvent = {
  __typename?: 'ShadowEvent';
  deviceId: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  properties: Scalars['JSONObject']['output'];
  receivedAt: Scalars['DateTime']['output'];
  serviceId: Scalars['String']['output'];
  status: ShadowStatus;
};

export type ShadowEventConnection = {
  __typename?: 'ShadowEventConnection';
  edges: Array<ShadowEventEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type ShadowEventEdge = {
  __typename?: 'ShadowEventEdge';
  cursor: Scalars['String']['output'];
  node: ShadowEvent;
};

/** Delivery status of a device-shadow change. */
export type ShadowStatus =
  | 'DELIVERED'
  | 'FAILED';

/** How many sub-tasks of a task are in one status. */
export type StatusCount = {
  __typename?: 'StatusCount';
  count: Scalars['Int']['output'];
  status: UpgradeStatus;
};

export type Subscription = {
  __typename?: 'Subscription';
  /** Every recorded change of a device (versions, online, upgrading, dock), optionally of one dock or one device. */
  deviceChanged: Device;
  /** Every change of status or counts of a rollout (of every rollout without id). */
  rolloutChanged: Rollout;
  /** Every recorded shadow event, optionally for one device. */
  shadowStatusChanged: ShadowEvent;
  /** One message per recorded ProgressEvent. Filters combine with AND. With `after` (a ProgressEvent id), first replays every matching event recorded after it, in order, then goes live with no gap or duplicate. */
  upgradeProgress: UpgradeProgress;
};


export type SubscriptionDeviceChangedArgs = {
  deviceId?: InputMaybe<Scalars['String']['input']>;
  gatewaySn?: InputMaybe<Scalars['String']['input']>;
};


export type SubscriptionRolloutChangedArgs = {
  id?: InputMaybe<Scalars['ID']['input']>;
};


export type SubscriptionShadowStatusChangedArgs = {
  deviceId?: InputMaybe<Scalars['String']['input']>;
};


export type SubscriptionUpgradeProgressArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  deviceId?: InputMaybe<Scalars['String']['input']>;
  gatewaySn?: InputMaybe<Scalars['String']['input']>;
  taskId?: InputMaybe<Scalars['ID']['input']>;
};

/** What is being upgraded. */
export type UpgradeKind =
  | 'FIRMWARE'
  | 'SOFTWARE';

/** One recorded progress event with its task and sub-task. */
export type UpgradeProgress = {
  __typename?: 'UpgradeProgress';
  event: ProgressEvent;
  subTask: UpgradeSubTask;
  task: UpgradeTask;
};

/** The platform a task came from. */
export type UpgradeSource =
  | 'DJI'
  | 'HUAWEI';

/** Normalised status. SUCCEEDED, FAILED, CANCELED, REJECTED and TIMED_OUT are terminal. */
export type UpgradeStatus =
  | 'CANCELED'
  | 'FAILED'
  | 'IN_PROGRESS'
  | 'PAUSED'
  | 'PENDING'
  | 'REJECTED'
  | 'SENT'
  | 'SUCCEEDED'
  | 'TIMED_OUT';

/** One device within an upgrade task. */
export type UpgradeSubTask = {
  __typename?: 'UpgradeSubTask';
  currentVersion?: Maybe<Scalars['String']['output']>;
  /** The device in the fleet inventory. */
  device?: Maybe<Device>;
  /** Huawei deviceId or DJI device sn. */
  deviceId: Scalars['String']['output'];
  errorCode?: Maybe<Scalars['String']['output']>;
  /** The history of this device, oldest first. */
  events: Array<ProgressEvent>;
  /** Huawei subOperationId. */
  externalId?: Maybe<Scalars['String']['output']>;
  fileName?: Maybe<Scalars['String']['output']>;
  fileSize?: Maybe<Scalars['SafeInt']['output']>;
  fileUrl?: Maybe<Scalars['String']['output']>;
  firmwareUpgradeType?: Maybe<FirmwareUpgradeType>;
  id: Scalars['ID']['output'];
  md5?: Maybe<Scalars['String']['output']>;
  /** Percent of the current step, as reported. */
  percent?: Maybe<Scalars['Int']['output']>;
  /** The device's overall progress 0..100 across its phases (DJI: download 0–50, install 50–100); it never goes back. */
  progress?: Maybe<Scalars['Int']['output']>;
  sourceVersion?: Maybe<Scalars['String']['output']>;
  status: UpgradeStatus;
  statusDesc?: Maybe<Scalars['String']['output']>;
  /** The phase the device is in, as its vendor names it (DJI: download_firmware, upgrade_firmware). */
  step?: Maybe<Scalars['String']['output']>;
  subStatus?: Maybe<Scalars['String']['output']>;
  targetVersion?: Maybe<Scalars['String']['output']>;
  task: UpgradeTask;
  updatedAt: Scalars['DateTime']['output'];
  /** Upgrade duration as Huawei reported it. */
  upgradeTime?: Maybe<Scalars['String']['output']>;
  /** The vendor's own status word. */
  vendorStatus?: Maybe<Scalars['String']['output']>;
};

export type UpgradeSubTaskConnection = {
  __typename?: 'UpgradeSubTaskConnection';
  edges: Array<UpgradeSubTaskEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type UpgradeSubTaskEdge = {
  __typename?: 'UpgradeSubTaskEdge';
  cursor: Scalars['String']['output'];
  node: UpgradeSubTask;
};

/** Sub-task filters, combined with AND. */
export type UpgradeSubTaskFilter = {
  deviceId?: InputMaybe<Scalars['String']['input']>;
  gatewaySn?: InputMaybe<Scalars['String']['input']>;
  status?: InputMaybe<UpgradeStatus>;
  taskId?: InputMaybe<Scalars['ID']['input']>;
};

/** One upgrade: a Huawei operation or a DJI bid, over one or more devices. */
export type UpgradeTask = {
  __typename?: 'UpgradeTask';
  appId?: Maybe<Scalars['String']['output']>;
  createdAt: Scalars['DateTime']['output'];
  /** The name of the API token that created the task (`anonymous` without tokens); null for tasks a platform reported. */
  createdBy?: Maybe<Scalars['String']['output']>;
  /** Huawei operationId or DJI bid. */
  externalId: Scalars['String']['output'];
  gatewaySn?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  kind: UpgradeKind;
  /** Mean of the sub-tasks' overall progress (a succeeded one counts 100); it does not go back while the devices run. */
  progress?: Maybe<Scalars['Int']['output']>;
  source: UpgradeSource;
  /** Derived from the sub-tasks. */
  status: UpgradeStatus;
  /** Sub-tasks per status (statuses with none are left out). */
  statusCounts: Array<StatusCount>;
  /** The devices of the task, oldest first. */
  subTasks: Array<UpgradeSubTask>;
  updatedAt: Scalars['DateTime']['output'];
};

export type UpgradeTaskConnection = {
  __typename?: 'UpgradeTaskConnection';
  edges: Array<UpgradeTaskEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type UpgradeTaskEdge = {
  __typename?: 'UpgradeTaskEdge';
  cursor: Scalars['String']['output'];
  node: UpgradeTask;
};

/** Task filters, combined with AND. */
export type UpgradeTaskFilter = {
  appId?: InputMaybe<Scalars['String']['input']>;
  /** Tasks with a sub-task for this device. */
  deviceId?: InputMaybe<Scalars['String']['input']>;
  gatewaySn?: InputMaybe<Scalars['String']['input']>;
  kind?: InputMaybe<UpgradeKind>;
  source?: InputMaybe<UpgradeSource>;
  status?: InputMaybe<UpgradeStatus>;
};

export type CreateFirmwareUpgradeInput = {
  /** One or two devices. */
  devices: Array<FirmwareUpgradeDeviceInput>;
  /** The dock sn: ota_create goes to thing/product/{gatewaySn}/services. */
  gatewaySn: string;
};

export type CreateHuaweiUpgradeInput = {
  /** Platform device ids, 1 to 1000, distinct. */
  deviceIds: Array<string>;
  /** The version package on the platform (its fileId). */
  fileId: string;
  /** FIRMWARE (LwM2M devices) or SOFTWARE. */
  kind: UpgradeKind;
  policy?: HuaweiUpgradePolicyInput | null | undefined;
};

export type CreateRolloutInput = {
  attemptTimeoutSeconds?: number;
  /** 1 to 10. */
  attemptsPerDevice?: number;
  /** 0 to 100. */
  maxFailurePercentage?: number;
  /** 1 to 1000. */
  maxInProgress?: number;
  minFinishedBeforeThreshold?: number;
  name: string;
  /** One package per model: each device gets the package of its model. */
  packageIds: Array<string | number>;
  /** Starts by itself then; without it, startRollout starts it. */
  startAt?: string | null | undefined;
  target: RolloutTargetInput;
};

/** Device filters, combined with AND. */
export type DeviceFilter = {
  consistencyUpgradeNeeded?: boolean | null | undefined;
  deviceIdPrefix?: string | null | undefined;
  firmwareVersion?: string | null | undefined;
  /** Devices not known to run this version (unknown versions included). */
  firmwareVersionNot?: string | null | undefined;
  /** The dock and the devices behind it. */
  gatewaySn?: string | null | undefined;
  /** A model key, e.g. 0-91-0. */
  model?: string | null | undefined;
  online?: boolean | null | undefined;
  source?: UpgradeSource | null | undefined;
  upgrading?: boolean | null | undefined;
};

export type FirmwareUpgradeDeviceInput = {
  fileName: string;
  fileSize: number;
  /** http(s) URL the device downloads from. */
  fileUrl: string;
  firmwareUpgradeType: FirmwareUpgradeType;
  /** 32 hex digits. */
  md5: string;
  productVersion: string;
  /** Target device sn (the dock or its aircraft). */
  sn: string;
};

/** DJI firmware_upgrade_type: CONSISTENT (2), REGULAR (3), PSDK (4). */
export type FirmwareUpgradeType =
  | 'CONSISTENT'
  | 'PSDK'
  | 'REGULAR';

/** When the Huawei platform runs an upgrade task: NOW, DEVICE_ONLINE (when each device next comes online), CUSTOM (between startTime and endTime). */
export type HuaweiExecuteType =
  | 'CUSTOM'
  | 'DEVICE_ONLINE'
  | 'NOW';

/** How the Huawei platform runs the task (its `policy`). */
export type HuaweiUpgradePolicyInput = {
  /** With CUSTOM; after startTime. */
  endTime?: string | null | undefined;
  /** Default NOW. */
  executeType?: HuaweiExecuteType | null | undefined;
  /** How often the platform retries a failed device, 0 to 5. */
  retryTimes?: number | null | undefined;
  /** With CUSTOM. */
  startTime?: string | null | undefined;
};

/** A DJI firmware build, checked as createFirmwareUpgrade checks a device. */
export type RegisterFirmwarePackageInput = {
  fileName: string;
  fileSize: number;
  /** http(s) URL the device downloads from. */
  fileUrl: string;
  firmwareUpgradeType: FirmwareUpgradeType;
  /** 32 hex digits. */
  md5: string;
  /** DJI model key domain-type-sub_type, e.g. 3-1-0 (Dock). */
  model: string;
  /** The version the device reports once upgraded (product_version). */
  version: string;
};

/** MANUAL (pauseRollout) or FAILURE_THRESHOLD (the brake). */
export type RolloutPauseReason =
  | 'FAILURE_THRESHOLD'
  | 'MANUAL';

/** SCHEDULED until started (startRollout or startAt); RUNNING; PAUSED (nothing new is sent); COMPLETED; CANCELED. */
export type RolloutStatus =
  | 'CANCELED'
  | 'COMPLETED'
  | 'PAUSED'
  | 'RUNNING'
  | 'SCHEDULED';

/** Exactly one of deviceIds and filter. The targets are fixed when the rollout is created. */
export type RolloutTargetInput = {
  /** Device ids (DJI sn) from the inventory. */
  deviceIds?: Array<string> | null | undefined;
  /** Every inventory device matching it, as it stands now. */
  filter?: DeviceFilter | null | undefined;
};

/** Where one device of a rollout stands. */
export type RolloutTargetStatus =
  | 'CANCELED'
  | 'FAILED'
  | 'IN_PROGRESS'
  | 'QUEUED'
  | 'SKIPPED'
  | 'SUCCEEDED';

/** Delivery status of a device-shadow change. */
export type ShadowStatus =
  | 'DELIVERED'
  | 'FAILED';

/** What is being upgraded. */
export type UpgradeKind =
  | 'FIRMWARE'
  | 'SOFTWARE';

/** The platform a task came from. */
export type UpgradeSource =
  | 'DJI'
  | 'HUAWEI';

/** Normalised status. SUCCEEDED, FAILED, CANCELED, REJECTED and TIMED_OUT are terminal. */
export type UpgradeStatus =
  | 'CANCELED'
  | 'FAILED'
  | 'IN_PROGRESS'
  | 'PAUSED'
  | 'PENDING'
  | 'REJECTED'
  | 'SENT'
  | 'SUCCEEDED'
  | 'TIMED_OUT';

/** Task filters, combined with AND. */
export type UpgradeTaskFilter = {
  appId?: string | null | undefined;
  /** Tasks with a sub-task for this device. */
  deviceId?: string | null | undefined;
  gatewaySn?: string | null | undefined;
  kind?: UpgradeKind | null | undefined;
  source?: UpgradeSource | null | undefined;
  status?: UpgradeStatus | null | undefined;
};

export type CreateRolloutMutationVariables = Exact<{
  input: CreateRolloutInput;
}>;


export type CreateRolloutMutation = { createRollout: { id: string, name: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, maxInProgress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number } } };

export type StartRolloutMutationVariables = Exact<{
  id: string | number;
}>;


export type StartRolloutMutation = { startRollout: { id: string, name: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, maxInProgress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number } } };

export type PauseRolloutMutationVariables = Exact<{
  id: string | number;
}>;


export type PauseRolloutMutation = { pauseRollout: { id: string, name: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, maxInProgress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number } } };

export type ResumeRolloutMutationVariables = Exact<{
  id: string | number;
}>;


export type ResumeRolloutMutation = { resumeRollout: { id: string, name: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, maxInProgress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number } } };

export type CancelRolloutMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelRolloutMutation = { cancelRollout: { id: string, name: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, maxInProgress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number } } };

export type RetryRolloutFailuresMutationVariables = Exact<{
  id: string | number;
}>;


export type RetryRolloutFailuresMutation = { retryRolloutFailures: { id: string, name: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, maxInProgress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number } } };

export type RolloutFieldsFragment = { id: string, name: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, maxInProgress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number } };

export type FirmwareVersionsQueryVariables = Exact<{
  model?: string | null | undefined;
  source?: UpgradeSource | null | undefined;
}>;


export type FirmwareVersionsQuery = { firmwareVersions: Array<{ model: string | null, modelName: string | null, firmwareVersion: string | null, count: number }> };

export type FollowDevicesSubscriptionVariables = Exact<{
  gatewaySn?: string | null | undefined;
  deviceId?: string | null | undefined;
}>;


export type FollowDevicesSubscription = { deviceChanged: { id: string, source: UpgradeSource, deviceId: string, gatewaySn: string | null, model: string | null, modelName: string | null, firmwareVersion: string | null, consistencyUpgradeNeeded: boolean | null, upgrading: boolean, online: boolean | null, lastSeenAt: string } };

export type FollowProgressSubscriptionVariables = Exact<{
  taskId?: string | number | null | undefined;
  gatewaySn?: string | null | undefined;
  deviceId?: string | null | undefined;
  after?: string | null | undefined;
}>;


export type FollowProgressSubscription = { upgradeProgress: { task: { id: string, status: UpgradeStatus, progress: number | null }, subTask: { id: string, deviceId: string, status: UpgradeStatus, step: string | null, percent: number | null }, event: { id: string, status: UpgradeStatus, vendorStatus: string | null, percent: number | null, step: string | null, errorCode: string | null, occurredAt: string } } };

export type RolloutDetailQueryVariables = Exact<{
  id: string | number;
  after?: string | null | undefined;
}>;


export type RolloutDetailQuery = { rollout: { id: string, name: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number }, packages: Array<{ model: string, version: string }>, targets: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, status: RolloutTargetStatus, attempts: number, lastError: string | null, device: { deviceId: string, modelName: string | null, firmwareVersion: string | null }, subTask: { status: UpgradeStatus, errorCode: string | null, statusDesc: string | null } | null } }> } } | null };

export type FollowRolloutSubscriptionVariables = Exact<{
  id?: string | number | null | undefined;
}>;


export type FollowRolloutSubscription = { rolloutChanged: { id: string, status: RolloutStatus, pauseReason: RolloutPauseReason | null, progress: number, counts: { total: number, queued: number, inProgress: number, succeeded: number, failed: number, skipped: number, canceled: number } } };

export type FollowShadowChangesSubscriptionVariables = Exact<{
  deviceId?: string | null | undefined;
}>;


export type FollowShadowChangesSubscription = { shadowStatusChanged: { id: string, deviceId: string, serviceId: string, properties: Record<string, unknown>, status: ShadowStatus, receivedAt: string } };

export type ListDevicesQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: DeviceFilter | null | undefined;
}>;


export type ListDevicesQuery = { devices: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, source: UpgradeSource, deviceId: string, gatewaySn: string | null, model: string | null, modelName: string | null, firmwareVersion: string | null, softwareVersion: string | null, consistencyUpgradeNeeded: boolean | null, upgrading: boolean, online: boolean | null, lastSeenAt: string } }> } };

export type ListTasksQueryVariables = Exact<{
  filter?: UpgradeTaskFilter | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ListTasksQuery = { upgradeTasks: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, source: UpgradeSource, kind: UpgradeKind, externalId: string, gatewaySn: string | null, status: UpgradeStatus, progress: number | null, createdAt: string, updatedAt: string, statusCounts: Array<{ status: UpgradeStatus, count: number }>, subTasks: Array<{ id: string, deviceId: string, status: UpgradeStatus, vendorStatus: string | null, step: string | null, percent: number | null, currentVersion: string | null, targetVersion: string | null }> } }> } };

export type RegisterFirmwarePackageMutationVariables = Exact<{
  input: RegisterFirmwarePackageInput;
}>;


export type RegisterFirmwarePackageMutation = { registerFirmwarePackage: { id: string, model: string, modelName: string | null, version: string, createdAt: string } };

export type StartFirmwareUpgradeMutationVariables = Exact<{
  input: CreateFirmwareUpgradeInput;
}>;


export type StartFirmwareUpgradeMutation = { createFirmwareUpgrade: { id: string, externalId: string, gatewaySn: string | null, status: UpgradeStatus, subTasks: Array<{ id: string, deviceId: string, status: UpgradeStatus, targetVersion: string | null }> } };

export type StartHuaweiUpgradeMutationVariables = Exact<{
  input: CreateHuaweiUpgradeInput;
}>;


export type StartHuaweiUpgradeMutation = { createHuaweiUpgrade: { id: string, externalId: string, kind: UpgradeKind, status: UpgradeStatus, subTasks: Array<{ deviceId: string, status: UpgradeStatus }> } };

export type ReconcileHuaweiTaskMutationVariables = Exact<{
  id: string | number;
}>;


export type ReconcileHuaweiTaskMutation = { reconcileHuaweiTask: { id: string, status: UpgradeStatus, progress: number | null } | null };

export type TaskDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type TaskDetailQuery = { upgradeTask: { id: string, source: UpgradeSource, kind: UpgradeKind, externalId: string, appId: string | null, gatewaySn: string | null, status: UpgradeStatus, progress: number | null, createdAt: string, updatedAt: string, subTasks: Array<{ id: string, deviceId: string, externalId: string | null, status: UpgradeStatus, vendorStatus: string | null, subStatus: string | null, step: string | null, percent: number | null, sourceVersion: string | null, currentVersion: string | null, targetVersion: string | null, statusDesc: string | null, errorCode: string | null, upgradeTime: string | null, fileName: string | null, fileSize: number | null, firmwareUpgradeType: FirmwareUpgradeType | null, updatedAt: string, events: Array<{ id: string, status: UpgradeStatus, vendorStatus: string | null, percent: number | null, step: string | null, errorCode: string | null, occurredAt: string, receivedAt: string }> }> } | null };

export const RolloutFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RolloutFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Rollout"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"maxInProgress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}}]}}]} as unknown as DocumentNode<RolloutFieldsFragment, unknown>;
export const CreateRolloutDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateRollout"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateRolloutInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createRollout"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RolloutFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RolloutFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Rollout"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"maxInProgress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}}]}}]} as unknown as DocumentNode<CreateRolloutMutation, CreateRolloutMutationVariables>;
export const StartRolloutDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"StartRollout"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"startRollout"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RolloutFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RolloutFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Rollout"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"maxInProgress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}}]}}]} as unknown as DocumentNode<StartRolloutMutation, StartRolloutMutationVariables>;
export const PauseRolloutDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"PauseRollout"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"pauseRollout"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RolloutFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RolloutFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Rollout"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"maxInProgress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}}]}}]} as unknown as DocumentNode<PauseRolloutMutation, PauseRolloutMutationVariables>;
export const ResumeRolloutDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ResumeRollout"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resumeRollout"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RolloutFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RolloutFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Rollout"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"maxInProgress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}}]}}]} as unknown as DocumentNode<ResumeRolloutMutation, ResumeRolloutMutationVariables>;
export const CancelRolloutDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CancelRollout"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cancelRollout"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RolloutFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RolloutFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Rollout"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"maxInProgress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}}]}}]} as unknown as DocumentNode<CancelRolloutMutation, CancelRolloutMutationVariables>;
export const RetryRolloutFailuresDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RetryRolloutFailures"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryRolloutFailures"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"RolloutFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"RolloutFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Rollout"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"maxInProgress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}}]}}]} as unknown as DocumentNode<RetryRolloutFailuresMutation, RetryRolloutFailuresMutationVariables>;
export const FirmwareVersionsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FirmwareVersions"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"model"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"source"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"UpgradeSource"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"firmwareVersions"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"model"},"value":{"kind":"Variable","name":{"kind":"Name","value":"model"}}},{"kind":"Argument","name":{"kind":"Name","value":"source"},"value":{"kind":"Variable","name":{"kind":"Name","value":"source"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"firmwareVersion"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}}]}}]} as unknown as DocumentNode<FirmwareVersionsQuery, FirmwareVersionsQueryVariables>;
export const FollowDevicesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"FollowDevices"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"gatewaySn"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"deviceId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deviceChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"gatewaySn"},"value":{"kind":"Variable","name":{"kind":"Name","value":"gatewaySn"}}},{"kind":"Argument","name":{"kind":"Name","value":"deviceId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"deviceId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"gatewaySn"}},{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"firmwareVersion"}},{"kind":"Field","name":{"kind":"Name","value":"consistencyUpgradeNeeded"}},{"kind":"Field","name":{"kind":"Name","value":"upgrading"}},{"kind":"Field","name":{"kind":"Name","value":"online"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeenAt"}}]}}]}}]} as unknown as DocumentNode<FollowDevicesSubscription, FollowDevicesSubscriptionVariables>;
export const FollowProgressDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"FollowProgress"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"taskId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"gatewaySn"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"deviceId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upgradeProgress"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"taskId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"taskId"}}},{"kind":"Argument","name":{"kind":"Name","value":"gatewaySn"},"value":{"kind":"Variable","name":{"kind":"Name","value":"gatewaySn"}}},{"kind":"Argument","name":{"kind":"Name","value":"deviceId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"deviceId"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"task"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}}]}},{"kind":"Field","name":{"kind":"Name","value":"subTask"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"step"}},{"kind":"Field","name":{"kind":"Name","value":"percent"}}]}},{"kind":"Field","name":{"kind":"Name","value":"event"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"vendorStatus"}},{"kind":"Field","name":{"kind":"Name","value":"percent"}},{"kind":"Field","name":{"kind":"Name","value":"step"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"occurredAt"}}]}}]}}]}}]} as unknown as DocumentNode<FollowProgressSubscription, FollowProgressSubscriptionVariables>;
export const RolloutDetailDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"RolloutDetail"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rollout"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}},{"kind":"Field","name":{"kind":"Name","value":"packages"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}},{"kind":"Field","name":{"kind":"Name","value":"targets"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"EnumValue","value":"FAILED"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"attempts"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"device"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"firmwareVersion"}}]}},{"kind":"Field","name":{"kind":"Name","value":"subTask"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"statusDesc"}}]}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<RolloutDetailQuery, RolloutDetailQueryVariables>;
export const FollowRolloutDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"FollowRollout"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"rolloutChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"pauseReason"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"counts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"queued"}},{"kind":"Field","name":{"kind":"Name","value":"inProgress"}},{"kind":"Field","name":{"kind":"Name","value":"succeeded"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"skipped"}},{"kind":"Field","name":{"kind":"Name","value":"canceled"}}]}}]}}]}}]} as unknown as DocumentNode<FollowRolloutSubscription, FollowRolloutSubscriptionVariables>;
export const FollowShadowChangesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"FollowShadowChanges"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"deviceId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"shadowStatusChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"deviceId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"deviceId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"serviceId"}},{"kind":"Field","name":{"kind":"Name","value":"properties"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"receivedAt"}}]}}]}}]} as unknown as DocumentNode<FollowShadowChangesSubscription, FollowShadowChangesSubscriptionVariables>;
export const ListDevicesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ListDevices"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"DeviceFilter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"gatewaySn"}},{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"firmwareVersion"}},{"kind":"Field","name":{"kind":"Name","value":"softwareVersion"}},{"kind":"Field","name":{"kind":"Name","value":"consistencyUpgradeNeeded"}},{"kind":"Field","name":{"kind":"Name","value":"upgrading"}},{"kind":"Field","name":{"kind":"Name","value":"online"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeenAt"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ListDevicesQuery, ListDevicesQueryVariables>;
export const ListTasksDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ListTasks"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"UpgradeTaskFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"20"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upgradeTasks"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"externalId"}},{"kind":"Field","name":{"kind":"Name","value":"gatewaySn"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"statusCounts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}},{"kind":"Field","name":{"kind":"Name","value":"subTasks"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"vendorStatus"}},{"kind":"Field","name":{"kind":"Name","value":"step"}},{"kind":"Field","name":{"kind":"Name","value":"percent"}},{"kind":"Field","name":{"kind":"Name","value":"currentVersion"}},{"kind":"Field","name":{"kind":"Name","value":"targetVersion"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<ListTasksQuery, ListTasksQueryVariables>;
export const RegisterFirmwarePackageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RegisterFirmwarePackage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RegisterFirmwarePackageInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"registerFirmwarePackage"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"model"}},{"kind":"Field","name":{"kind":"Name","value":"modelName"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]}}]} as unknown as DocumentNode<RegisterFirmwarePackageMutation, RegisterFirmwarePackageMutationVariables>;
export const StartFirmwareUpgradeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"StartFirmwareUpgrade"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateFirmwareUpgradeInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createFirmwareUpgrade"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"externalId"}},{"kind":"Field","name":{"kind":"Name","value":"gatewaySn"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"subTasks"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"targetVersion"}}]}}]}}]}}]} as unknown as DocumentNode<StartFirmwareUpgradeMutation, StartFirmwareUpgradeMutationVariables>;
export const StartHuaweiUpgradeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"StartHuaweiUpgrade"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateHuaweiUpgradeInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createHuaweiUpgrade"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"externalId"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"subTasks"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]}}]} as unknown as DocumentNode<StartHuaweiUpgradeMutation, StartHuaweiUpgradeMutationVariables>;
export const ReconcileHuaweiTaskDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ReconcileHuaweiTask"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"reconcileHuaweiTask"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}}]}}]}}]} as unknown as DocumentNode<ReconcileHuaweiTaskMutation, ReconcileHuaweiTaskMutationVariables>;
export const TaskDetailDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TaskDetail"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"upgradeTask"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"externalId"}},{"kind":"Field","name":{"kind":"Name","value":"appId"}},{"kind":"Field","name":{"kind":"Name","value":"gatewaySn"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"progress"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"subTasks"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"externalId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"vendorStatus"}},{"kind":"Field","name":{"kind":"Name","value":"subStatus"}},{"kind":"Field","name":{"kind":"Name","value":"step"}},{"kind":"Field","name":{"kind":"Name","value":"percent"}},{"kind":"Field","name":{"kind":"Name","value":"sourceVersion"}},{"kind":"Field","name":{"kind":"Name","value":"currentVersion"}},{"kind":"Field","name":{"kind":"Name","value":"targetVersion"}},{"kind":"Field","name":{"kind":"Name","value":"statusDesc"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"upgradeTime"}},{"kind":"Field","name":{"kind":"Name","value":"fileName"}},{"kind":"Field","name":{"kind":"Name","value":"fileSize"}},{"kind":"Field","name":{"kind":"Name","value":"firmwareUpgradeType"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"events"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"vendorStatus"}},{"kind":"Field","name":{"kind":"Name","value":"percent"}},{"kind":"Field","name":{"kind":"Name","value":"step"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}},{"kind":"Field","name":{"kind":"Name","value":"occurredAt"}},{"kind":"Field","name":{"kind":"Name","value":"receivedAt"}}]}}]}}]}}]}}]} as unknown as DocumentNode<TaskDetailQuery, TaskDetailQueryVariables>;